; amlz-compile native runtime (LLVM IR text, opaque pointers).
;
; Linked (textually) into every module the JIT compiles. All functions are `internal` and
; `alwaysinline`: each compiled module carries its own copy and the optimiser inlines them, so
; the generator state, an `alloca i64` in the kernel, lives in a register.
;
; The generator is the project's SplitMix64 (amlz_compile/rng.py), bit for bit:
;   next:  state += 0x9E3779B97F4A7C15; z = state
;          z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
;          z = (z ^ (z >> 27)) * 0x94D049BB133111EB
;          return z ^ (z >> 31)
;   unit      = (z >> 11) * 2^-53            in [0, 1)
;   open_unit = ((z >> 11) + 0.5) * 2^-53    in (0, 1)
;   uniform(lo, hi)    = lo if !(lo < hi) (no draw) else lo + (hi - lo) * open_unit
;   gaussian(mu, sd)   = mu + sd * (sqrt(-2 log(u1)) * cos(2 pi u2)), u1 = open_unit, u2 = unit
; `log` and `cos` are libm's (resolved in the host process, as numba's are); sqrt is the IEEE
; instruction (llvm.sqrt), so values equal the numba interpreter's to the last bit.
; Calls to libm carry attribute group #90 (`nobuiltin`): LLVM must neither constant-fold them
; (its folding need not round like the host's libm) nor rewrite them, so every value comes from
; the same libm the interpreter calls. Kernels use #90 for their libm calls too.
; The README beside this file states the ABI.

attributes #90 = { nobuiltin nounwind }

declare double @log(double)
declare double @cos(double)
declare double @exp(double)
declare double @llvm.sqrt.f64(double)

define internal i64 @amlz_rng_next(ptr %state) alwaysinline {
  %old = load i64, ptr %state
  %s = add i64 %old, -7046029254386353131
  store i64 %s, ptr %state
  %a1 = lshr i64 %s, 30
  %a2 = xor i64 %s, %a1
  %a3 = mul i64 %a2, -4658895280553007687
  %b1 = lshr i64 %a3, 27
  %b2 = xor i64 %a3, %b1
  %b3 = mul i64 %b2, -7723592293110705685
  %c1 = lshr i64 %b3, 31
  %c2 = xor i64 %b3, %c1
  ret i64 %c2
}

define internal double @amlz_rng_unit(ptr %state) alwaysinline {
  %z = call i64 @amlz_rng_next(ptr %state)
  %t = lshr i64 %z, 11
  %d = uitofp i64 %t to double
  %r = fmul double %d, 0x3CA0000000000000
  ret double %r
}

define internal double @amlz_rng_open_unit(ptr %state) alwaysinline {
  %z = call i64 @amlz_rng_next(ptr %state)
  %t = lshr i64 %z, 11
  %d = uitofp i64 %t to double
  %h = fadd double %d, 0x3FE0000000000000
  %r = fmul double %h, 0x3CA0000000000000
  ret double %r
}

define internal double @amlz_rng_uniform(ptr %state, double %lo, double %hi) alwaysinline {
entry:
  %ok = fcmp olt double %lo, %hi
  br i1 %ok, label %draw, label %const
const:
  ret double %lo
draw:
  %u = call double @amlz_rng_open_unit(ptr %state)
  %w = fsub double %hi, %lo
  %p = fmul double %w, %u
  %r = fadd double %lo, %p
  ret double %r
}

define internal double @amlz_rng_gaussian(ptr %state, double %mu, double %sigma) alwaysinline {
  %u1 = call double @amlz_rng_open_unit(ptr %state)
  %u2 = call double @amlz_rng_unit(ptr %state)
  %l = call double @log(double %u1) #90
  %m = fmul double %l, 0xC000000000000000
  %r = call double @llvm.sqrt.f64(double %m)
  %a = fmul double %u2, 0x401921FB54442D18
  %c = call double @cos(double %a) #90
  %z = fmul double %r, %c
  %s = fmul double %sigma, %z
  %g = fadd double %mu, %s
  ret double %g
}

; 1 / (1 + exp(-x)), the logistic function applied to s1 of accuracy tasks.
define internal double @amlz_sigmoid(double %x) alwaysinline {
  %n = fneg double %x
  %e = call double @exp(double %n) #90
  %d = fadd double %e, 1.0
  %r = fdiv double 1.0, %d
  ret double %r
}
