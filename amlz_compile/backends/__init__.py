"""Backends: things that run a program on a task.

Every backend implements the same *task kernel* contract, so `evaluate.py` computes fitness with
one code for all of them (docs/semantics.md#training-and-validation):

    run_task(code int32[n,4], data float64[n,4], bounds int64[4],
             scalars float64[nS], vectors float64[nV,F], matrices float64[nM,F,F],   # memory
             train_x float64[N,F], train_y float64[N], orders int32[E,N],
             n_train_steps int,          # training budget, <= E*N (0 => nothing runs)
             valid_x float64[V,F], valid_y float64[V], n_valid int,   # n_valid <= V
             is_accuracy bool, max_abs_error float64, rng_seed uint64,
             epoch_loss float64[E],      # out: validation loss sum per validated epoch,
                                         #      NaN where that validation failed (epoch fitness 0)
             trace float64[T],           # out: predictions in execution order (see below)
             counts int64[3])            # out: [epochs_validated, trace_written, train_steps]

The kernel wipes the memory, seeds the generator with rng_seed, runs Setup once, then for each
epoch e (while steps remain): training steps k over orders[e] (v0 <- x, s0 <- 0, Predict,
sigmoid into s1 for accuracy tasks, err = |y - s1|, fail on NaN or err > max_abs_error, v0 <- x,
s0 <- y, Learn), then validation over the first n_valid examples in natural order (v0 <- x,
s0 <- 0, Predict; loss += (y - s1)^2, or the 0/1 error of (s1 > 0) vs (y > 0.5) for accuracy
tasks; NaN or |e| > max_abs_error makes that epoch's loss NaN). A training failure in the first
epoch leaves epochs_validated = 0; in a later epoch it stops the run keeping earlier epochs.
`trace` receives, while it has room, the s1 of every training step (after the sigmoid, the
failing step included) and then of every validation Predict. `train_steps` counts every
training step started (the failing one included), as the reference's budget counter does.
"""
