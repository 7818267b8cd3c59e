;; Hand-written kernels for training on the tfjs wasm backend: convolutions and Dense products
;; register-blocked for 128-bit SIMD, Winograd's 3×3 and 5×5 convolutions on top of them (XNNPACK's
;; run well below the multiply-add ceiling on these shapes, and it repacks a fresh weight every
;; step: `npm run bench -- --only kernels` compares them), MaxPoolGrad in one pass, fused optimizer
;; updates. They run on the backend's own heap: the memory is imported, and every pointer is a byte
;; offset of a tensor there. Built by build.ts for a plain or a shared memory (the threaded
;; backend's; a wasm import must say which) and with each multiply-add variant (MADD, see build.ts).
;; Each function is single-threaded and sums in a fixed order: results do not depend on the
;; backend's thread count.
(module
  (import "env" "memory" (memory 1 @MEMORY_LIMITS@))

  ;; dx[pos] += g[0] unless pos < 0 (no maximum found): dx already offset by the lane.
  (func $scatter (param $dx i32) (param $pos i32) (param $g i32)
    (local $at i32)
    (if (i32.ge_s (local.get $pos) (i32.const 0)) (then
      (local.set $at (i32.add (local.get $dx) (local.get $pos)))
      (f32.store (local.get $at) (f32.add (f32.load (local.get $at)) (f32.load (local.get $g)))))))

  ;; MaxPoolGrad, NHWC: each window's gradient goes to its first strict maximum in row-major tap
  ;; order, starting from -inf (as tfjs-backend-cpu does; a window with no value
  ;; above -inf, or only NaN, passes no gradient). Overlapping windows add up. dx must be zeroed.
  (func (export "max_pool_grad")
    (param $x i32) (param $dy i32) (param $dx i32)
    (param $n i32) (param $h i32) (param $w i32) (param $c i32)
    (param $oh i32) (param $ow i32) (param $fh i32) (param $fw i32)
    (param $sh i32) (param $sw i32) (param $top i32) (param $left i32)
    (local $b i32) (local $oy i32) (local $ox i32) (local $ch i32)
    (local $y0 i32) (local $y1 i32) (local $x0 i32) (local $x1 i32)
    (local $yi i32) (local $xi i32) (local $best f32) (local $pos i32) (local $v f32)
    (local $addr i32) (local $g i32) (local $rowBytes i32) (local $pixBytes i32) (local $imgBytes i32)
    (local $winBase i32) (local $bestV v128) (local $posV v128) (local $v4 v128) (local $gt v128)
    (local.set $pixBytes (i32.shl (local.get $c) (i32.const 2)))
    (local.set $rowBytes (i32.mul (local.get $w) (local.get $pixBytes)))
    (local.set $imgBytes (i32.mul (local.get $h) (local.get $rowBytes)))
    (local.set $g (local.get $dy))
    (local.set $b (i32.const 0))
    (block $bDone (loop $bLoop
      (br_if $bDone (i32.ge_s (local.get $b) (local.get $n)))
      (local.set $oy (i32.const 0))
      (block $oyDone (loop $oyLoop
        (br_if $oyDone (i32.ge_s (local.get $oy) (local.get $oh)))
        ;; window rows clipped to the image
        (local.set $y0 (i32.sub (i32.mul (local.get $oy) (local.get $sh)) (local.get $top)))
        (local.set $y1 (i32.add (local.get $y0) (local.get $fh)))
        (if (i32.lt_s (local.get $y0) (i32.const 0)) (then (local.set $y0 (i32.const 0))))
        (if (i32.gt_s (local.get $y1) (local.get $h)) (then (local.set $y1 (local.get $h))))
        (local.set $ox (i32.const 0))
        (block $oxDone (loop $oxLoop
          (br_if $oxDone (i32.ge_s (local.get $ox) (local.get $ow)))
          (local.set $x0 (i32.sub (i32.mul (local.get $ox) (local.get $sw)) (local.get $left)))
          (local.set $x1 (i32.add (local.get $x0) (local.get $fw)))
          (if (i32.lt_s (local.get $x0) (i32.const 0)) (then (local.set $x0 (i32.const 0))))
          (if (i32.gt_s (local.get $x1) (local.get $w)) (then (local.set $x1 (local.get $w))))
          (local.set $ch (i32.const 0))
          ;; 4 channels at a time: lane-wise running max and the byte offset of the pixel holding it
          (block $ch4Done (loop $ch4Loop
            (br_if $ch4Done (i32.gt_s (i32.add (local.get $ch) (i32.const 4)) (local.get $c)))
            (local.set $bestV (f32x4.splat (f32.const -inf)))
            (local.set $posV (i32x4.splat (i32.const -1)))
            (local.set $winBase (i32.add (i32.mul (local.get $b) (local.get $imgBytes)) (i32.shl (local.get $ch) (i32.const 2))))
            (local.set $yi (local.get $y0))
            (block $yi4Done (loop $yi4Loop
              (br_if $yi4Done (i32.ge_s (local.get $yi) (local.get $y1)))
              (local.set $xi (local.get $x0))
              (block $xi4Done (loop $xi4Loop
                (br_if $xi4Done (i32.ge_s (local.get $xi) (local.get $x1)))
                (local.set $addr (i32.add (local.get $winBase)
                  (i32.add (i32.mul (local.get $yi) (local.get $rowBytes)) (i32.mul (local.get $xi) (local.get $pixBytes)))))
                (local.set $v4 (v128.load (i32.add (local.get $x) (local.get $addr))))
                (local.set $gt (f32x4.gt (local.get $v4) (local.get $bestV)))
                (local.set $bestV (v128.bitselect (local.get $v4) (local.get $bestV) (local.get $gt)))
                (local.set $posV (v128.bitselect (i32x4.splat (local.get $addr)) (local.get $posV) (local.get $gt)))
                (local.set $xi (i32.add (local.get $xi) (i32.const 1)))
                (br $xi4Loop)))
              (local.set $yi (i32.add (local.get $yi) (i32.const 1)))
              (br $yi4Loop)))
            ;; lane k's pixel is at posV[k] + 4k (posV holds the offset of the 4-channel group)
            (call $scatter (i32.add (local.get $dx) (i32.const 0)) (i32x4.extract_lane 0 (local.get $posV)) (i32.add (local.get $g) (i32.const 0)))
            (call $scatter (i32.add (local.get $dx) (i32.const 4)) (i32x4.extract_lane 1 (local.get $posV)) (i32.add (local.get $g) (i32.const 4)))
            (call $scatter (i32.add (local.get $dx) (i32.const 8)) (i32x4.extract_lane 2 (local.get $posV)) (i32.add (local.get $g) (i32.const 8)))
            (call $scatter (i32.add (local.get $dx) (i32.const 12)) (i32x4.extract_lane 3 (local.get $posV)) (i32.add (local.get $g) (i32.const 12)))
            (local.set $g (i32.add (local.get $g) (i32.const 16)))
            (local.set $ch (i32.add (local.get $ch) (i32.const 4)))
            (br $ch4Loop)))
          ;; the remaining channels one at a time
          (block $chDone (loop $chLoop
            (br_if $chDone (i32.ge_s (local.get $ch) (local.get $c)))
            (local.set $best (f32.const -inf))
            (local.set $pos (i32.const -1))
            (local.set $winBase (i32.add (i32.mul (local.get $b) (local.get $imgBytes)) (i32.shl (local.get $ch) (i32.const 2))))
            (local.set $yi (local.get $y0))
            (block $yiDone (loop $yiLoop
              (br_if $yiDone (i32.ge_s (local.get $yi) (local.get $y1)))
              (local.set $xi (local.get $x0))
              (block $xiDone (loop $xiLoop
                (br_if $xiDone (i32.ge_s (local.get $xi) (local.get $x1)))
                (local.set $addr (i32.add (local.get $winBase)
                  (i32.add (i32.mul (local.get $yi) (local.get $rowBytes)) (i32.mul (local.get $xi) (local.get $pixBytes)))))
                (local.set $v (f32.load (i32.add (local.get $x) (local.get $addr))))
                (if (f32.gt (local.get $v) (local.get $best)) (then
                  (local.set $best (local.get $v))
                  (local.set $pos (local.get $addr))))
                (local.set $xi (i32.add (local.get $xi) (i32.const 1)))
                (br $xiLoop)))
              (local.set $yi (i32.add (local.get $yi) (i32.const 1)))
              (br $yiLoop)))
            (if (i32.ge_s (local.get $pos) (i32.const 0)) (then
              (local.set $addr (i32.add (local.get $dx) (local.get $pos)))
              (f32.store (local.get $addr) (f32.add (f32.load (local.get $addr)) (f32.load (local.get $g))))))
            (local.set $g (i32.add (local.get $g) (i32.const 4)))
            (local.set $ch (i32.add (local.get $ch) (i32.const 1)))
            (br $chLoop)))
          (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
          (br $oxLoop)))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br $oyLoop)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $bLoop))))

  ;; MaxPoolGrad for 2×2 windows at stride 2 without padding (every pool of the studies), NHWC: the
  ;; windows do not overlap, so each writes its own four pixels of dx, the gradient to its first
  ;; strict maximum in row-major order starting from -inf (as max_pool_grad) and +0 elsewhere.
  ;; g + 0 turns a -0 gradient into +0, as max_pool_grad's 0 + g does, so the two agree bit for
  ;; bit. Pixels no window covers (an odd last row or column) are left alone: zero dx first then.
  (func (export "max_pool_grad_2x2")
    (param $x i32) (param $dy i32) (param $dx i32)
    (param $n i32) (param $h i32) (param $w i32) (param $c i32) (param $oh i32) (param $ow i32)
    (local $b i32) (local $oy i32) (local $ox i32) (local $ch i32) (local $c4 i32)
    (local $pixBytes i32) (local $rowBytes i32) (local $p00 i32) (local $p01 i32) (local $p10 i32) (local $p11 i32) (local $g i32)
    (local $v00 v128) (local $v01 v128) (local $v10 v128) (local $v11 v128) (local $best v128)
    (local $m00 v128) (local $m01 v128) (local $m10 v128) (local $m11 v128) (local $gv v128)
    (local $s00 f32) (local $s01 f32) (local $s10 f32) (local $s11 f32) (local $bs f32) (local $win i32) (local $gs f32)
    (local.set $pixBytes (i32.shl (local.get $c) (i32.const 2)))
    (local.set $rowBytes (i32.mul (local.get $w) (local.get $pixBytes)))
    (local.set $c4 (i32.and (local.get $c) (i32.const -4)))
    (local.set $g (local.get $dy))
    (local.set $b (i32.const 0))
    (block $bDone (loop $bLoop
      (br_if $bDone (i32.ge_s (local.get $b) (local.get $n)))
      (local.set $oy (i32.const 0))
      (block $oyDone (loop $oyLoop
        (br_if $oyDone (i32.ge_s (local.get $oy) (local.get $oh)))
        (local.set $ox (i32.const 0))
        (block $oxDone (loop $oxLoop
          (br_if $oxDone (i32.ge_s (local.get $ox) (local.get $ow)))
          ;; byte offset of the window's top-left pixel, and of its three other pixels
          (local.set $p00 (i32.add
            (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (i32.shl (local.get $oy) (i32.const 1))) (local.get $rowBytes))
            (i32.mul (i32.shl (local.get $ox) (i32.const 1)) (local.get $pixBytes))))
          (local.set $p01 (i32.add (local.get $p00) (local.get $pixBytes)))
          (local.set $p10 (i32.add (local.get $p00) (local.get $rowBytes)))
          (local.set $p11 (i32.add (local.get $p10) (local.get $pixBytes)))
          (local.set $ch (i32.const 0))
          (block $ch4Done (loop $ch4Loop
            (br_if $ch4Done (i32.ge_s (local.get $ch) (local.get $c4)))
            (local.set $v00 (v128.load (i32.add (local.get $x) (local.get $p00))))
            (local.set $v01 (v128.load (i32.add (local.get $x) (local.get $p01))))
            (local.set $v10 (v128.load (i32.add (local.get $x) (local.get $p10))))
            (local.set $v11 (v128.load (i32.add (local.get $x) (local.get $p11))))
            ;; m_t: tap t beats every tap before it; the last tap that does holds the first maximum
            (local.set $m00 (f32x4.gt (local.get $v00) (f32x4.splat (f32.const -inf))))
            (local.set $best (v128.bitselect (local.get $v00) (f32x4.splat (f32.const -inf)) (local.get $m00)))
            (local.set $m01 (f32x4.gt (local.get $v01) (local.get $best)))
            (local.set $best (v128.bitselect (local.get $v01) (local.get $best) (local.get $m01)))
            (local.set $m10 (f32x4.gt (local.get $v10) (local.get $best)))
            (local.set $best (v128.bitselect (local.get $v10) (local.get $best) (local.get $m10)))
            (local.set $m11 (f32x4.gt (local.get $v11) (local.get $best)))
            (local.set $m10 (v128.andnot (local.get $m10) (local.get $m11)))
            (local.set $m01 (v128.andnot (local.get $m01) (v128.or (local.get $m10) (local.get $m11))))
            (local.set $m00 (v128.andnot (local.get $m00) (v128.or (local.get $m01) (v128.or (local.get $m10) (local.get $m11)))))
            (local.set $gv (f32x4.add (v128.load (local.get $g)) (f32x4.splat (f32.const 0))))
            (v128.store (i32.add (local.get $dx) (local.get $p00)) (v128.and (local.get $gv) (local.get $m00)))
            (v128.store (i32.add (local.get $dx) (local.get $p01)) (v128.and (local.get $gv) (local.get $m01)))
            (v128.store (i32.add (local.get $dx) (local.get $p10)) (v128.and (local.get $gv) (local.get $m10)))
            (v128.store (i32.add (local.get $dx) (local.get $p11)) (v128.and (local.get $gv) (local.get $m11)))
            (local.set $p00 (i32.add (local.get $p00) (i32.const 16)))
            (local.set $p01 (i32.add (local.get $p01) (i32.const 16)))
            (local.set $p10 (i32.add (local.get $p10) (i32.const 16)))
            (local.set $p11 (i32.add (local.get $p11) (i32.const 16)))
            (local.set $g (i32.add (local.get $g) (i32.const 16)))
            (local.set $ch (i32.add (local.get $ch) (i32.const 4)))
            (br $ch4Loop)))
          ;; the last c mod 4 channels one at a time
          (block $chDone (loop $chLoop
            (br_if $chDone (i32.ge_s (local.get $ch) (local.get $c)))
            (local.set $s00 (f32.load (i32.add (local.get $x) (local.get $p00))))
            (local.set $s01 (f32.load (i32.add (local.get $x) (local.get $p01))))
            (local.set $s10 (f32.load (i32.add (local.get $x) (local.get $p10))))
            (local.set $s11 (f32.load (i32.add (local.get $x) (local.get $p11))))
            (local.set $bs (f32.const -inf))
            (local.set $win (i32.const -1))
            (if (f32.gt (local.get $s00) (local.get $bs)) (then (local.set $bs (local.get $s00)) (local.set $win (i32.const 0))))
            (if (f32.gt (local.get $s01) (local.get $bs)) (then (local.set $bs (local.get $s01)) (local.set $win (i32.const 1))))
            (if (f32.gt (local.get $s10) (local.get $bs)) (then (local.set $bs (local.get $s10)) (local.set $win (i32.const 2))))
            (if (f32.gt (local.get $s11) (local.get $bs)) (then (local.set $bs (local.get $s11)) (local.set $win (i32.const 3))))
            (local.set $gs (f32.add (f32.load (local.get $g)) (f32.const 0)))
            (f32.store (i32.add (local.get $dx) (local.get $p00)) (select (local.get $gs) (f32.const 0) (i32.eq (local.get $win) (i32.const 0))))
            (f32.store (i32.add (local.get $dx) (local.get $p01)) (select (local.get $gs) (f32.const 0) (i32.eq (local.get $win) (i32.const 1))))
            (f32.store (i32.add (local.get $dx) (local.get $p10)) (select (local.get $gs) (f32.const 0) (i32.eq (local.get $win) (i32.const 2))))
            (f32.store (i32.add (local.get $dx) (local.get $p11)) (select (local.get $gs) (f32.const 0) (i32.eq (local.get $win) (i32.const 3))))
            (local.set $p00 (i32.add (local.get $p00) (i32.const 4)))
            (local.set $p01 (i32.add (local.get $p01) (i32.const 4)))
            (local.set $p10 (i32.add (local.get $p10) (i32.const 4)))
            (local.set $p11 (i32.add (local.get $p11) (i32.const 4)))
            (local.set $g (i32.add (local.get $g) (i32.const 4)))
            (local.set $ch (i32.add (local.get $ch) (i32.const 1)))
            (br $chLoop)))
          (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
          (br $oxLoop)))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br $oyLoop)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $bLoop))))

  ;; Copies `rows` runs of rowBytes, one every srcRowBytes from src, to one every dstRowBytes from
  ;; dst, each at offset `left` bytes, zeroing the rest of each destination row: a convolution's
  ;; column padding (srcRowBytes = rowBytes), or the first pixels of each output row.
  (func (export "copy_rows")
    (param $src i32) (param $srcRowBytes i32) (param $dst i32) (param $dstRowBytes i32)
    (param $rows i32) (param $rowBytes i32) (param $left i32)
    (local $r i32) (local $right i32)
    (local.set $right (i32.sub (i32.sub (local.get $dstRowBytes) (local.get $left)) (local.get $rowBytes)))
    (local.set $r (i32.const 0))
    (block $done (loop $row
      (br_if $done (i32.ge_s (local.get $r) (local.get $rows)))
      (memory.fill (local.get $dst) (i32.const 0) (local.get $left))
      (memory.copy (i32.add (local.get $dst) (local.get $left)) (local.get $src) (local.get $rowBytes))
      (memory.fill (i32.add (i32.add (local.get $dst) (local.get $left)) (local.get $rowBytes)) (i32.const 0) (local.get $right))
      (local.set $src (i32.add (local.get $src) (local.get $srcRowBytes)))
      (local.set $dst (i32.add (local.get $dst) (local.get $dstRowBytes)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $row))))

  ;; Convolution as register-blocked products (forward, input gradient, Dense x·W):
  ;;   y[b, oy, ox, oc] = bias[oc] + Σ_i Σ_{k < fw·c} x[b, oy·sh + i - top, ox·sw·c + k] · w[i, k, oc]
  ;; x is [n, h, wp, c] with its columns already padded (column 0 is the input's column -left), so
  ;; the fw·c values a tap row reads for one output pixel lie side by side. Rows outside [0, h) are
  ;; padding and skipped. w is [fh, fw·c, oStride] (oStride ≥ o, a multiple of 4, zeros beyond o);
  ;; bias is 0 (none) or oStride floats. Each output sums bias first, then the taps row by row and
  ;; within a row in (j, c) order, one multiply and one add per tap (MADD). A tile is 4 output
  ;; pixels of one row × 8 channels (8 accumulators): each weight vector loaded serves 4 pixels,
  ;; each broadcast pixel value 2 vectors. A row's last tile starts at ow - 4 and recomputes a few
  ;; pixels (the same sums in the same order), so ow must be ≥ 4 (a caller with narrower rows
  ;; computes 4 pixels from a wider-padded input and keeps its own). The 4-channel tail stores only
  ;; the channels below o.
  (func $convForward (export "conv_forward")
    (param $x i32) (param $w i32) (param $bias i32) (param $y i32)
    (param $n i32) (param $h i32) (param $wp i32) (param $c i32)
    (param $oh i32) (param $ow i32) (param $o i32) (param $oStride i32)
    (param $fh i32) (param $fw i32) (param $sh i32) (param $sw i32) (param $top i32)
    (local $b i32) (local $oy i32) (local $iy0 i32) (local $i0 i32) (local $i1 i32) (local $i i32)
    (local $ob i32) (local $t i32) (local $ox0 i32)
    (local $kBytes i32) (local $pixStep i32) (local $rowBytes i32) (local $wRowBytes i32) (local $wStep i32)
    (local $oBytes i32) (local $yRow i32) (local $xr i32)
    (local $x0 i32) (local $x1 i32) (local $x2 i32) (local $x3 i32) (local $wq i32) (local $xEnd i32) (local $yp i32)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128)
    (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
    (local $w0 v128) (local $w1 v128) (local $s v128) (local $bv0 v128) (local $bv1 v128)
    (local.set $kBytes (i32.shl (i32.mul (local.get $fw) (local.get $c)) (i32.const 2)))
    (local.set $pixStep (i32.shl (i32.mul (local.get $sw) (local.get $c)) (i32.const 2)))
    (local.set $rowBytes (i32.shl (i32.mul (local.get $wp) (local.get $c)) (i32.const 2)))
    (local.set $wStep (i32.shl (local.get $oStride) (i32.const 2)))
    (local.set $wRowBytes (i32.mul (i32.mul (local.get $fw) (local.get $c)) (local.get $wStep)))
    (local.set $oBytes (i32.shl (local.get $o) (i32.const 2)))
    (local.set $b (i32.const 0))
    (block $bDone (loop $bLoop
      (br_if $bDone (i32.ge_s (local.get $b) (local.get $n)))
      (local.set $oy (i32.const 0))
      (block $oyDone (loop $oyLoop
        (br_if $oyDone (i32.ge_s (local.get $oy) (local.get $oh)))
        ;; taps rows i in [i0, i1) land inside the image
        (local.set $iy0 (i32.sub (i32.mul (local.get $oy) (local.get $sh)) (local.get $top)))
        (local.set $i0 (i32.const 0))
        (if (i32.lt_s (local.get $iy0) (i32.const 0)) (then (local.set $i0 (i32.sub (i32.const 0) (local.get $iy0)))))
        (local.set $i1 (i32.sub (local.get $h) (local.get $iy0)))
        (if (i32.gt_s (local.get $i1) (local.get $fh)) (then (local.set $i1 (local.get $fh))))
        (local.set $yRow (i32.add (local.get $y) (i32.mul (i32.mul (i32.add (i32.mul (local.get $b) (local.get $oh)) (local.get $oy)) (local.get $ow)) (local.get $oBytes))))
        ;; input row of tap row 0 (may lie outside the image; only rows in [i0, i1) are read)
        (local.set $xr (i32.add (local.get $x) (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $iy0)) (local.get $rowBytes))))
        (local.set $ob (i32.const 0))
        ;; 8 channels at a time
        (block $o8Done (loop $o8Loop
          (br_if $o8Done (i32.gt_s (i32.add (local.get $ob) (i32.const 8)) (local.get $o)))
          (if (local.get $bias)
            (then
              (local.set $bv0 (v128.load offset=0 (i32.add (local.get $bias) (i32.shl (local.get $ob) (i32.const 2)))))
              (local.set $bv1 (v128.load offset=16 (i32.add (local.get $bias) (i32.shl (local.get $ob) (i32.const 2))))))
            (else
              (local.set $bv0 (v128.const i32x4 0 0 0 0))
              (local.set $bv1 (v128.const i32x4 0 0 0 0))))
          (local.set $t (i32.const 0))
          (block $tDone (loop $tLoop
            (br_if $tDone (i32.ge_s (local.get $t) (local.get $ow)))
            (local.set $ox0 (local.get $t))
            (if (i32.gt_s (i32.add (local.get $ox0) (i32.const 4)) (local.get $ow)) (then (local.set $ox0 (i32.sub (local.get $ow) (i32.const 4)))))
            (local.set $a00 (local.get $bv0)) (local.set $a01 (local.get $bv1))
            (local.set $a10 (local.get $bv0)) (local.set $a11 (local.get $bv1))
            (local.set $a20 (local.get $bv0)) (local.set $a21 (local.get $bv1))
            (local.set $a30 (local.get $bv0)) (local.set $a31 (local.get $bv1))
            (local.set $i (local.get $i0))
            (block $iDone (loop $iLoop
              (br_if $iDone (i32.ge_s (local.get $i) (local.get $i1)))
              (local.set $x0 (i32.add (i32.add (local.get $xr) (i32.mul (local.get $i) (local.get $rowBytes))) (i32.mul (local.get $ox0) (local.get $pixStep))))
              (local.set $x1 (i32.add (local.get $x0) (local.get $pixStep)))
              (local.set $x2 (i32.add (local.get $x1) (local.get $pixStep)))
              (local.set $x3 (i32.add (local.get $x2) (local.get $pixStep)))
              (local.set $xEnd (i32.add (local.get $x0) (local.get $kBytes)))
              (local.set $wq (i32.add (i32.add (local.get $w) (i32.mul (local.get $i) (local.get $wRowBytes))) (i32.shl (local.get $ob) (i32.const 2))))
              (loop $k
                (local.set $w0 (v128.load offset=0 (local.get $wq)))
                (local.set $w1 (v128.load offset=16 (local.get $wq)))
                (local.set $s (v128.load32_splat (local.get $x0)))
                MADD($a00, $s, $w0) MADD($a01, $s, $w1)
                (local.set $s (v128.load32_splat (local.get $x1)))
                MADD($a10, $s, $w0) MADD($a11, $s, $w1)
                (local.set $s (v128.load32_splat (local.get $x2)))
                MADD($a20, $s, $w0) MADD($a21, $s, $w1)
                (local.set $s (v128.load32_splat (local.get $x3)))
                MADD($a30, $s, $w0) MADD($a31, $s, $w1)
                (local.set $x0 (i32.add (local.get $x0) (i32.const 4)))
                (local.set $x1 (i32.add (local.get $x1) (i32.const 4)))
                (local.set $x2 (i32.add (local.get $x2) (i32.const 4)))
                (local.set $x3 (i32.add (local.get $x3) (i32.const 4)))
                (local.set $wq (i32.add (local.get $wq) (local.get $wStep)))
                (br_if $k (i32.lt_u (local.get $x0) (local.get $xEnd))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $iLoop)))
            (local.set $yp (i32.add (i32.add (local.get $yRow) (i32.mul (local.get $ox0) (local.get $oBytes))) (i32.shl (local.get $ob) (i32.const 2))))
            (v128.store offset=0 (local.get $yp) (local.get $a00)) (v128.store offset=16 (local.get $yp) (local.get $a01))
            (local.set $yp (i32.add (local.get $yp) (local.get $oBytes)))
            (v128.store offset=0 (local.get $yp) (local.get $a10)) (v128.store offset=16 (local.get $yp) (local.get $a11))
            (local.set $yp (i32.add (local.get $yp) (local.get $oBytes)))
            (v128.store offset=0 (local.get $yp) (local.get $a20)) (v128.store offset=16 (local.get $yp) (local.get $a21))
            (local.set $yp (i32.add (local.get $yp) (local.get $oBytes)))
            (v128.store offset=0 (local.get $yp) (local.get $a30)) (v128.store offset=16 (local.get $yp) (local.get $a31))
            (local.set $t (i32.add (local.get $t) (i32.const 4)))
            (br $tLoop)))
          (local.set $ob (i32.add (local.get $ob) (i32.const 8)))
          (br $o8Loop)))
        ;; the remaining channels 4 at a time (the last block may hold fewer than 4)
        (block $o4Done (loop $o4Loop
          (br_if $o4Done (i32.ge_s (local.get $ob) (local.get $o)))
          (if (local.get $bias)
            (then (local.set $bv0 (v128.load (i32.add (local.get $bias) (i32.shl (local.get $ob) (i32.const 2))))))
            (else (local.set $bv0 (v128.const i32x4 0 0 0 0))))
          (local.set $t (i32.const 0))
          (block $t4Done (loop $t4Loop
            (br_if $t4Done (i32.ge_s (local.get $t) (local.get $ow)))
            (local.set $ox0 (local.get $t))
            (if (i32.gt_s (i32.add (local.get $ox0) (i32.const 4)) (local.get $ow)) (then (local.set $ox0 (i32.sub (local.get $ow) (i32.const 4)))))
            (local.set $a00 (local.get $bv0)) (local.set $a10 (local.get $bv0))
            (local.set $a20 (local.get $bv0)) (local.set $a30 (local.get $bv0))
            (local.set $i (local.get $i0))
            (block $i4Done (loop $i4Loop
              (br_if $i4Done (i32.ge_s (local.get $i) (local.get $i1)))
              (local.set $x0 (i32.add (i32.add (local.get $xr) (i32.mul (local.get $i) (local.get $rowBytes))) (i32.mul (local.get $ox0) (local.get $pixStep))))
              (local.set $x1 (i32.add (local.get $x0) (local.get $pixStep)))
              (local.set $x2 (i32.add (local.get $x1) (local.get $pixStep)))
              (local.set $x3 (i32.add (local.get $x2) (local.get $pixStep)))
              (local.set $xEnd (i32.add (local.get $x0) (local.get $kBytes)))
              (local.set $wq (i32.add (i32.add (local.get $w) (i32.mul (local.get $i) (local.get $wRowBytes))) (i32.shl (local.get $ob) (i32.const 2))))
              (loop $k4
                (local.set $w0 (v128.load (local.get $wq)))
                (local.set $s (v128.load32_splat (local.get $x0)))
                MADD($a00, $s, $w0)
                (local.set $s (v128.load32_splat (local.get $x1)))
                MADD($a10, $s, $w0)
                (local.set $s (v128.load32_splat (local.get $x2)))
                MADD($a20, $s, $w0)
                (local.set $s (v128.load32_splat (local.get $x3)))
                MADD($a30, $s, $w0)
                (local.set $x0 (i32.add (local.get $x0) (i32.const 4)))
                (local.set $x1 (i32.add (local.get $x1) (i32.const 4)))
                (local.set $x2 (i32.add (local.get $x2) (i32.const 4)))
                (local.set $x3 (i32.add (local.get $x3) (i32.const 4)))
                (local.set $wq (i32.add (local.get $wq) (local.get $wStep)))
                (br_if $k4 (i32.lt_u (local.get $x0) (local.get $xEnd))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $i4Loop)))
            (local.set $yp (i32.add (i32.add (local.get $yRow) (i32.mul (local.get $ox0) (local.get $oBytes))) (i32.shl (local.get $ob) (i32.const 2))))
            (call $storePart (local.get $yp) (local.get $a00) (i32.sub (local.get $o) (local.get $ob)))
            (local.set $yp (i32.add (local.get $yp) (local.get $oBytes)))
            (call $storePart (local.get $yp) (local.get $a10) (i32.sub (local.get $o) (local.get $ob)))
            (local.set $yp (i32.add (local.get $yp) (local.get $oBytes)))
            (call $storePart (local.get $yp) (local.get $a20) (i32.sub (local.get $o) (local.get $ob)))
            (local.set $yp (i32.add (local.get $yp) (local.get $oBytes)))
            (call $storePart (local.get $yp) (local.get $a30) (i32.sub (local.get $o) (local.get $ob)))
            (local.set $t (i32.add (local.get $t) (i32.const 4)))
            (br $t4Loop)))
          (local.set $ob (i32.add (local.get $ob) (i32.const 4)))
          (br $o4Loop)))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br $oyLoop)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $bLoop))))

  ;; Winograd F(2×2, 3×3) for 3×3 convolutions at stride 1 (forward, and the input gradient with the
  ;; filter turned), 2.25 times fewer multiplies than conv_forward: per 2×2 block of outputs, a 4×4
  ;; patch d of the input becomes V = Bᵀ·d·B (adds only), the filter g becomes U = G·g·Gᵀ (once per
  ;; call, by the caller), the 16 entries multiply as 16 products V_e[tiles, c]·U_e[c, o] (on
  ;; conv_forward, as 1×1 convolutions), and the outputs are Y = Aᵀ·M·A (adds only) plus the bias.
  ;; The sums are in another order than the direct convolution's (and rounded through the
  ;; transforms), so results differ from it in the last bits. A few rows of tiles at a time, so
  ;; that their V and M stay in cache. x is the batch already padded ([n, hp, wp, c], hp = 2·tH + 2, wp = 2·tW + 2,
  ;; the image at the pads), u is [16, c, op], v and m are scratch of 16·tH·tW·c and 16·tH·tW·op
  ;; floats; c (the padded copy's channels) and op (o rounded up) multiples of 4, tH·tW ≥ 4.
  (func (export "winograd_conv")
    (param $x i32) (param $u i32) (param $bias i32) (param $y i32) (param $v i32) (param $m i32)
    (param $n i32) (param $hp i32) (param $wp i32) (param $c i32) (param $oh i32) (param $ow i32) (param $o i32) (param $op i32)
    (local $b i32) (local $tH i32) (local $tW i32) (local $T i32) (local $e i32) (local $ty0 i32) (local $rows i32) (local $chunk i32)
    (local.set $tH (i32.shr_u (i32.add (local.get $oh) (i32.const 1)) (i32.const 1)))
    (local.set $tW (i32.shr_u (i32.add (local.get $ow) (i32.const 1)) (i32.const 1)))
    ;; tile rows per pass: ~64 tiles, so that a pass's V and M stay in L2 (and at least 4 tiles)
    (local.set $chunk (i32.div_u (i32.const 64) (local.get $tW)))
    (if (i32.lt_s (i32.mul (local.get $chunk) (local.get $tW)) (i32.const 4))
      (then (local.set $chunk (i32.div_u (i32.add (local.get $tW) (i32.const 3)) (local.get $tW)))))
    (if (i32.eqz (local.get $chunk)) (then (local.set $chunk (i32.const 1))))
    (local.set $b (i32.const 0))
    (block $bDone (loop $bLoop
      (br_if $bDone (i32.ge_s (local.get $b) (local.get $n)))
      (local.set $ty0 (i32.const 0))
      (block $chunkDone (loop $chunkLoop
      (br_if $chunkDone (i32.ge_s (local.get $ty0) (local.get $tH)))
      (local.set $rows (local.get $chunk))
      (if (i32.gt_s (i32.add (local.get $ty0) (local.get $rows)) (local.get $tH)) (then (local.set $rows (i32.sub (local.get $tH) (local.get $ty0)))))
      ;; the last pass may hold fewer than 4 tiles: start it earlier (its first rows again, the same sums)
      (if (i32.lt_s (i32.mul (local.get $rows) (local.get $tW)) (i32.const 4)) (then
        (local.set $ty0 (i32.sub (local.get $tH) (local.get $chunk)))
        (local.set $rows (local.get $chunk))))
      (local.set $T (i32.mul (local.get $rows) (local.get $tW)))
      (call $winogradInput
        (i32.add (local.get $x) (i32.shl (i32.mul (i32.mul (i32.add (i32.mul (local.get $b) (local.get $hp)) (i32.shl (local.get $ty0) (i32.const 1))) (local.get $wp)) (local.get $c)) (i32.const 2)))
        (local.get $v) (local.get $wp) (local.get $c) (local.get $rows) (local.get $tW))
      (local.set $e (i32.const 0))
      (block $eDone (loop $eLoop
        (br_if $eDone (i32.ge_s (local.get $e) (i32.const 16)))
        (call $convForward
          (i32.add (local.get $v) (i32.shl (i32.mul (i32.mul (local.get $e) (local.get $T)) (local.get $c)) (i32.const 2)))
          (i32.add (local.get $u) (i32.shl (i32.mul (i32.mul (local.get $e) (local.get $c)) (local.get $op)) (i32.const 2)))
          (i32.const 0)
          (i32.add (local.get $m) (i32.shl (i32.mul (i32.mul (local.get $e) (local.get $T)) (local.get $op)) (i32.const 2)))
          (i32.const 1) (i32.const 1) (local.get $T) (local.get $c)
          (i32.const 1) (local.get $T) (local.get $op) (local.get $op)
          (i32.const 1) (i32.const 1) (i32.const 1) (i32.const 1) (i32.const 0))
        (local.set $e (i32.add (local.get $e) (i32.const 1)))
        (br $eLoop)))
      (call $winogradOutput
        (local.get $m) (local.get $bias)
        (i32.add (local.get $y) (i32.shl (i32.mul (i32.mul (i32.add (i32.mul (local.get $b) (local.get $oh)) (i32.shl (local.get $ty0) (i32.const 1))) (local.get $ow)) (local.get $o)) (i32.const 2)))
        (i32.sub (local.get $oh) (i32.shl (local.get $ty0) (i32.const 1))) (local.get $ow) (local.get $o) (local.get $op) (local.get $rows) (local.get $tW))
      (local.set $ty0 (i32.add (local.get $ty0) (local.get $rows)))
      (br $chunkLoop)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $bLoop))))

  ;; V[e, t, ch] = (Bᵀ·d·B)[e] for the 4×4 patch d at rows 2·ty.., columns 2·tx.. of the padded image
  ;; img [·, wp, c], t = ty·tW + tx, e = 4·row + column; 4 channels at a time. Bᵀ rows: (1 0 -1 0),
  ;; (0 1 1 0), (0 -1 1 0), (0 1 0 -1).
  (func $winogradInput (param $img i32) (param $v i32) (param $wp i32) (param $c i32) (param $tH i32) (param $tW i32)
    (local $ty i32) (local $tx i32) (local $ch i32) (local $p i32) (local $q i32) (local $r i32) (local $ra i32) (local $rb i32) (local $sign i32)
    (local $pix i32) (local $row i32) (local $plane i32) (local $t i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $pix (i32.shl (local.get $c) (i32.const 2)))
    (local.set $row (i32.mul (local.get $wp) (local.get $pix)))
    (local.set $plane (i32.mul (i32.mul (i32.mul (local.get $tH) (local.get $tW)) (local.get $c)) (i32.const 4)))
    (local.set $t (i32.const 0))
    (local.set $ty (i32.const 0))
    (block $tyDone (loop $tyLoop
      (br_if $tyDone (i32.ge_s (local.get $ty) (local.get $tH)))
      (local.set $tx (i32.const 0))
      (block $txDone (loop $txLoop
        (br_if $txDone (i32.ge_s (local.get $tx) (local.get $tW)))
        (local.set $ch (i32.const 0))
        (block $chDone (loop $chLoop
          (br_if $chDone (i32.ge_s (local.get $ch) (local.get $c)))
          ;; top-left of the patch, this channel group
          (local.set $p (i32.add (local.get $img) (i32.add
            (i32.add (i32.mul (i32.shl (local.get $ty) (i32.const 1)) (local.get $row)) (i32.mul (i32.shl (local.get $tx) (i32.const 1)) (local.get $pix)))
            (i32.shl (local.get $ch) (i32.const 2)))))
          ;; destination of e = 0 for this tile and channel group
          (local.set $q (i32.add (local.get $v) (i32.shl (i32.add (i32.mul (local.get $t) (local.get $c)) (local.get $ch)) (i32.const 2))))
          ;; output row r of Bᵀ·d combines patch rows ra and rb: d[ra] - d[rb] (r = 0, 3) or d[ra] + d[rb] ... see below
          (local.set $r (i32.const 0))
          (block $rDone (loop $rLoop
            (br_if $rDone (i32.ge_s (local.get $r) (i32.const 4)))
            ;; r 0: d0 - d2;  r 1: d1 + d2;  r 2: d2 - d1;  r 3: d1 - d3
            (if (i32.eqz (local.get $r)) (then (local.set $ra (i32.const 0)) (local.set $rb (i32.const 2)) (local.set $sign (i32.const 1))))
            (if (i32.eq (local.get $r) (i32.const 1)) (then (local.set $ra (i32.const 1)) (local.set $rb (i32.const 2)) (local.set $sign (i32.const 0))))
            (if (i32.eq (local.get $r) (i32.const 2)) (then (local.set $ra (i32.const 2)) (local.set $rb (i32.const 1)) (local.set $sign (i32.const 1))))
            (if (i32.eq (local.get $r) (i32.const 3)) (then (local.set $ra (i32.const 1)) (local.set $rb (i32.const 3)) (local.set $sign (i32.const 1))))
            (local.set $ra (i32.add (local.get $p) (i32.mul (local.get $ra) (local.get $row))))
            (local.set $rb (i32.add (local.get $p) (i32.mul (local.get $rb) (local.get $row))))
            (local.set $a0 (v128.load (local.get $ra)))
            (local.set $a1 (v128.load (i32.add (local.get $ra) (local.get $pix))))
            (local.set $a2 (v128.load (i32.add (local.get $ra) (i32.shl (local.get $pix) (i32.const 1)))))
            (local.set $a3 (v128.load (i32.add (local.get $ra) (i32.mul (local.get $pix) (i32.const 3)))))
            (local.set $b0 (v128.load (local.get $rb)))
            (local.set $b1 (v128.load (i32.add (local.get $rb) (local.get $pix))))
            (local.set $b2 (v128.load (i32.add (local.get $rb) (i32.shl (local.get $pix) (i32.const 1)))))
            (local.set $b3 (v128.load (i32.add (local.get $rb) (i32.mul (local.get $pix) (i32.const 3)))))
            (if (local.get $sign)
              (then
                (local.set $t0 (f32x4.sub (local.get $a0) (local.get $b0))) (local.set $t1 (f32x4.sub (local.get $a1) (local.get $b1)))
                (local.set $t2 (f32x4.sub (local.get $a2) (local.get $b2))) (local.set $t3 (f32x4.sub (local.get $a3) (local.get $b3))))
              (else
                (local.set $t0 (f32x4.add (local.get $a0) (local.get $b0))) (local.set $t1 (f32x4.add (local.get $a1) (local.get $b1)))
                (local.set $t2 (f32x4.add (local.get $a2) (local.get $b2))) (local.set $t3 (f32x4.add (local.get $a3) (local.get $b3)))))
            ;; then ·B along the columns, the same combinations: e = 4r + 0..3
            (v128.store (local.get $q) (f32x4.sub (local.get $t0) (local.get $t2)))
            (v128.store (i32.add (local.get $q) (local.get $plane)) (f32x4.add (local.get $t1) (local.get $t2)))
            (v128.store (i32.add (local.get $q) (i32.shl (local.get $plane) (i32.const 1))) (f32x4.sub (local.get $t2) (local.get $t1)))
            (v128.store (i32.add (local.get $q) (i32.mul (local.get $plane) (i32.const 3))) (f32x4.sub (local.get $t1) (local.get $t3)))
            (local.set $q (i32.add (local.get $q) (i32.shl (local.get $plane) (i32.const 2))))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $rLoop)))
          (local.set $ch (i32.add (local.get $ch) (i32.const 4)))
          (br $chLoop)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (local.set $tx (i32.add (local.get $tx) (i32.const 1)))
        (br $txLoop)))
      (local.set $ty (i32.add (local.get $ty) (i32.const 1)))
      (br $tyLoop))))

  ;; y[2·ty + a, 2·tx + bc, oc] = bias[oc] + (Aᵀ·M·A)[a, bc] for the tile's 16 products M[e, t, oc],
  ;; where in the image (odd oh / ow leave a tile's last row / column out). Aᵀ rows: (1 1 1 0),
  ;; (0 1 -1 -1). img is the image's first output pixel [oh, ow, o]; bias 0 for none.
  (func $winogradOutput (param $mm i32) (param $bias i32) (param $img i32) (param $oh i32) (param $ow i32) (param $o i32) (param $op i32) (param $tH i32) (param $tW i32)
    (local $ty i32) (local $tx i32) (local $oc i32) (local $cnt i32) (local $out v128) (local $t i32) (local $p i32) (local $plane i32) (local $pix i32) (local $rowB i32) (local $col i32)
    (local $yp i32) (local $row1 i32) (local $col1 i32)
    (local $m0 v128) (local $m1 v128) (local $m2 v128) (local $m3 v128)
    (local $u00 v128) (local $u01 v128) (local $u02 v128) (local $u03 v128)
    (local $u10 v128) (local $u11 v128) (local $u12 v128) (local $u13 v128) (local $bv v128)
    (local.set $pix (i32.shl (local.get $o) (i32.const 2)))
    (local.set $rowB (i32.mul (local.get $ow) (local.get $pix)))
    (local.set $plane (i32.mul (i32.mul (i32.mul (local.get $tH) (local.get $tW)) (local.get $op)) (i32.const 4)))
    (local.set $t (i32.const 0))
    (local.set $ty (i32.const 0))
    (block $tyDone (loop $tyLoop
      (br_if $tyDone (i32.ge_s (local.get $ty) (local.get $tH)))
      (local.set $row1 (i32.lt_s (i32.add (i32.shl (local.get $ty) (i32.const 1)) (i32.const 1)) (local.get $oh)))
      (local.set $tx (i32.const 0))
      (block $txDone (loop $txLoop
        (br_if $txDone (i32.ge_s (local.get $tx) (local.get $tW)))
        (local.set $col1 (i32.lt_s (i32.add (i32.shl (local.get $tx) (i32.const 1)) (i32.const 1)) (local.get $ow)))
        (local.set $oc (i32.const 0))
        (block $ocDone (loop $ocLoop
          (br_if $ocDone (i32.ge_s (local.get $oc) (local.get $o)))
          (local.set $p (i32.add (local.get $mm) (i32.shl (i32.add (i32.mul (local.get $t) (local.get $op)) (local.get $oc)) (i32.const 2))))
          (local.set $cnt (i32.sub (local.get $o) (local.get $oc)))
          ;; u0 = M row 0 + row 1 + row 2, u1 = row 1 - row 2 - row 3, column by column (M row r, column j is e = 4r + j)
          (local.set $col (i32.const 0))
          (block $colDone (loop $colLoop
            (br_if $colDone (i32.ge_s (local.get $col) (i32.const 4)))
            (local.set $m0 (v128.load (local.get $p)))
            (local.set $m1 (v128.load (i32.add (local.get $p) (i32.shl (local.get $plane) (i32.const 2)))))
            (local.set $m2 (v128.load (i32.add (local.get $p) (i32.shl (local.get $plane) (i32.const 3)))))
            (local.set $m3 (v128.load (i32.add (local.get $p) (i32.mul (local.get $plane) (i32.const 12)))))
            (local.set $m0 (f32x4.add (f32x4.add (local.get $m0) (local.get $m1)) (local.get $m2)))
            (local.set $m1 (f32x4.sub (f32x4.sub (local.get $m1) (local.get $m2)) (local.get $m3)))
            (if (i32.eqz (local.get $col)) (then (local.set $u00 (local.get $m0)) (local.set $u10 (local.get $m1))))
            (if (i32.eq (local.get $col) (i32.const 1)) (then (local.set $u01 (local.get $m0)) (local.set $u11 (local.get $m1))))
            (if (i32.eq (local.get $col) (i32.const 2)) (then (local.set $u02 (local.get $m0)) (local.set $u12 (local.get $m1))))
            (if (i32.eq (local.get $col) (i32.const 3)) (then (local.set $u03 (local.get $m0)) (local.set $u13 (local.get $m1))))
            (local.set $p (i32.add (local.get $p) (local.get $plane)))
            (local.set $col (i32.add (local.get $col) (i32.const 1)))
            (br $colLoop)))
          (if (local.get $bias)
            (then (local.set $bv (v128.load (i32.add (local.get $bias) (i32.shl (local.get $oc) (i32.const 2))))))
            (else (local.set $bv (v128.const i32x4 0 0 0 0))))
          (local.set $yp (i32.add (local.get $img) (i32.add
            (i32.add (i32.mul (i32.shl (local.get $ty) (i32.const 1)) (local.get $rowB)) (i32.mul (i32.shl (local.get $tx) (i32.const 1)) (local.get $pix)))
            (i32.shl (local.get $oc) (i32.const 2)))))
          (local.set $out (f32x4.add (local.get $bv) (f32x4.add (f32x4.add (local.get $u00) (local.get $u01)) (local.get $u02)))) (if (i32.ge_s (local.get $cnt) (i32.const 4)) (then (v128.store (local.get $yp) (local.get $out))) (else (call $storePart (local.get $yp) (local.get $out) (local.get $cnt))))
          (if (local.get $col1) (then
            (local.set $out (f32x4.add (local.get $bv) (f32x4.sub (f32x4.sub (local.get $u01) (local.get $u02)) (local.get $u03)))) (if (i32.ge_s (local.get $cnt) (i32.const 4)) (then (v128.store (i32.add (local.get $yp) (local.get $pix)) (local.get $out))) (else (call $storePart (i32.add (local.get $yp) (local.get $pix)) (local.get $out) (local.get $cnt))))))
          (if (local.get $row1) (then
            (local.set $out (f32x4.add (local.get $bv) (f32x4.add (f32x4.add (local.get $u10) (local.get $u11)) (local.get $u12)))) (if (i32.ge_s (local.get $cnt) (i32.const 4)) (then (v128.store (i32.add (local.get $yp) (local.get $rowB)) (local.get $out))) (else (call $storePart (i32.add (local.get $yp) (local.get $rowB)) (local.get $out) (local.get $cnt))))
            (if (local.get $col1) (then
              (local.set $out (f32x4.add (local.get $bv) (f32x4.sub (f32x4.sub (local.get $u11) (local.get $u12)) (local.get $u13)))) (if (i32.ge_s (local.get $cnt) (i32.const 4)) (then (v128.store (i32.add (i32.add (local.get $yp) (local.get $rowB)) (local.get $pix)) (local.get $out))) (else (call $storePart (i32.add (i32.add (local.get $yp) (local.get $rowB)) (local.get $pix)) (local.get $out) (local.get $cnt))))))))
          (local.set $oc (i32.add (local.get $oc) (i32.const 4)))
          (br $ocLoop)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (local.set $tx (i32.add (local.get $tx) (i32.const 1)))
        (br $txLoop)))
      (local.set $ty (i32.add (local.get $ty) (i32.const 1)))
      (br $tyLoop))))

  ;; Winograd F(2×2, 5×5) for 5×5 convolutions at stride 1, as winograd_conv does F(2×2, 3×3): per
  ;; 2×2 block of outputs, a 6×6 patch d becomes V = Bᵀ·d·B, the filter U = G·g·Gᵀ (by the caller),
  ;; 36 products V_e·U_e on conv_forward, and Y = Aᵀ·M·A plus the bias: 36 multiplies per input and
  ;; output channel instead of 100. Interpolation points 0, ±1, ±2, ∞:
  ;;   Bᵀ = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
  ;;   Aᵀ = [1 1 1 1 1 0; 0 1 -1 2 -2 1]
  ;; x is padded as for winograd_conv (hp = 2·tH + 4, wp = 2·tW + 4), u is [36, c, op], v and m hold
  ;; 36·tH·tW·c and 36·tH·tW·op floats, s 144 more (the transforms' intermediate 6×6 vectors).
  (func (export "winograd5_conv")
    (param $x i32) (param $u i32) (param $bias i32) (param $y i32) (param $v i32) (param $m i32) (param $s i32)
    (param $n i32) (param $hp i32) (param $wp i32) (param $c i32) (param $oh i32) (param $ow i32) (param $o i32) (param $op i32)
    (local $b i32) (local $tH i32) (local $tW i32) (local $T i32) (local $e i32) (local $ty0 i32) (local $rows i32) (local $chunk i32)
    (local.set $tH (i32.shr_u (i32.add (local.get $oh) (i32.const 1)) (i32.const 1)))
    (local.set $tW (i32.shr_u (i32.add (local.get $ow) (i32.const 1)) (i32.const 1)))
    ;; tile rows per pass: ~64 tiles, so that a pass's V and M stay in L2 (and at least 4 tiles)
    (local.set $chunk (i32.div_u (i32.const 64) (local.get $tW)))
    (if (i32.lt_s (i32.mul (local.get $chunk) (local.get $tW)) (i32.const 4))
      (then (local.set $chunk (i32.div_u (i32.add (local.get $tW) (i32.const 3)) (local.get $tW)))))
    (if (i32.eqz (local.get $chunk)) (then (local.set $chunk (i32.const 1))))
    (local.set $b (i32.const 0))
    (block $bDone (loop $bLoop
      (br_if $bDone (i32.ge_s (local.get $b) (local.get $n)))
      (local.set $ty0 (i32.const 0))
      (block $chunkDone (loop $chunkLoop
      (br_if $chunkDone (i32.ge_s (local.get $ty0) (local.get $tH)))
      (local.set $rows (local.get $chunk))
      (if (i32.gt_s (i32.add (local.get $ty0) (local.get $rows)) (local.get $tH)) (then (local.set $rows (i32.sub (local.get $tH) (local.get $ty0)))))
      ;; the last pass may hold fewer than 4 tiles: start it earlier (its first rows again, the same sums)
      (if (i32.lt_s (i32.mul (local.get $rows) (local.get $tW)) (i32.const 4)) (then
        (local.set $ty0 (i32.sub (local.get $tH) (local.get $chunk)))
        (local.set $rows (local.get $chunk))))
      (local.set $T (i32.mul (local.get $rows) (local.get $tW)))
      (call $winograd5Input
        (i32.add (local.get $x) (i32.shl (i32.mul (i32.mul (i32.add (i32.mul (local.get $b) (local.get $hp)) (i32.shl (local.get $ty0) (i32.const 1))) (local.get $wp)) (local.get $c)) (i32.const 2)))
        (local.get $v) (local.get $s) (local.get $wp) (local.get $c) (local.get $rows) (local.get $tW))
      (local.set $e (i32.const 0))
      (block $eDone (loop $eLoop
        (br_if $eDone (i32.ge_s (local.get $e) (i32.const 36)))
        (call $convForward
          (i32.add (local.get $v) (i32.shl (i32.mul (i32.mul (local.get $e) (local.get $T)) (local.get $c)) (i32.const 2)))
          (i32.add (local.get $u) (i32.shl (i32.mul (i32.mul (local.get $e) (local.get $c)) (local.get $op)) (i32.const 2)))
          (i32.const 0)
          (i32.add (local.get $m) (i32.shl (i32.mul (i32.mul (local.get $e) (local.get $T)) (local.get $op)) (i32.const 2)))
          (i32.const 1) (i32.const 1) (local.get $T) (local.get $c)
          (i32.const 1) (local.get $T) (local.get $op) (local.get $op)
          (i32.const 1) (i32.const 1) (i32.const 1) (i32.const 1) (i32.const 0))
        (local.set $e (i32.add (local.get $e) (i32.const 1)))
        (br $eLoop)))
      (call $winograd5Output
        (local.get $m) (local.get $s) (local.get $bias)
        (i32.add (local.get $y) (i32.shl (i32.mul (i32.mul (i32.add (i32.mul (local.get $b) (local.get $oh)) (i32.shl (local.get $ty0) (i32.const 1))) (local.get $ow)) (local.get $o)) (i32.const 2)))
        (i32.sub (local.get $oh) (i32.shl (local.get $ty0) (i32.const 1))) (local.get $ow) (local.get $o) (local.get $op) (local.get $rows) (local.get $tW))
      (local.set $ty0 (i32.add (local.get $ty0) (local.get $rows)))
      (br $chunkLoop)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $bLoop))))

  ;; V[e, t, ch] = (Bᵀ·d·B)[e] for the 6×6 patches (see winograd5_conv), 4 channels at a time, in two
  ;; passes of the same six-term transform: Bᵀ down each patch column into s (6×6 vectors), then
  ;; along each row of s into V (e = 6·row + column).
  (func $winograd5Input (param $img i32) (param $v i32) (param $s i32) (param $wp i32) (param $c i32) (param $tH i32) (param $tW i32)
    (local $ty i32) (local $tx i32) (local $ch i32) (local $t i32) (local $pix i32) (local $row i32) (local $plane i32)
    (local $pass i32) (local $k i32) (local $in i32) (local $inStep i32) (local $out i32) (local $outStep i32)
    (local $d0 v128) (local $d1 v128) (local $d2 v128) (local $d3 v128) (local $d4 v128) (local $d5 v128) (local $four v128)
    (local.set $pix (i32.shl (local.get $c) (i32.const 2)))
    (local.set $row (i32.mul (local.get $wp) (local.get $pix)))
    (local.set $plane (i32.mul (i32.mul (i32.mul (local.get $tH) (local.get $tW)) (local.get $c)) (i32.const 4)))
    (local.set $four (f32x4.splat (f32.const 4)))
    (local.set $t (i32.const 0))
    (local.set $ty (i32.const 0))
    (block $tyDone (loop $tyLoop
      (br_if $tyDone (i32.ge_s (local.get $ty) (local.get $tH)))
      (local.set $tx (i32.const 0))
      (block $txDone (loop $txLoop
        (br_if $txDone (i32.ge_s (local.get $tx) (local.get $tW)))
        (local.set $ch (i32.const 0))
        (block $chDone (loop $chLoop
          (br_if $chDone (i32.ge_s (local.get $ch) (local.get $c)))
          (local.set $pass (i32.const 0))
          (block $passDone (loop $passLoop
            (br_if $passDone (i32.ge_s (local.get $pass) (i32.const 2)))
            (local.set $k (i32.const 0))
            (block $kDone (loop $kLoop
              (br_if $kDone (i32.ge_s (local.get $k) (i32.const 6)))
              (if (i32.eqz (local.get $pass))
                (then
                  ;; patch column k, down its rows; into s column k
                  (local.set $in (i32.add (local.get $img) (i32.add
                    (i32.add (i32.mul (i32.shl (local.get $ty) (i32.const 1)) (local.get $row)) (i32.mul (i32.add (i32.shl (local.get $tx) (i32.const 1)) (local.get $k)) (local.get $pix)))
                    (i32.shl (local.get $ch) (i32.const 2)))))
                  (local.set $inStep (local.get $row))
                  (local.set $out (i32.add (local.get $s) (i32.shl (local.get $k) (i32.const 4))))
                  (local.set $outStep (i32.const 96)))
                (else
                  ;; s row k, along its columns; into V at e = 6k..6k+5
                  (local.set $in (i32.add (local.get $s) (i32.mul (local.get $k) (i32.const 96))))
                  (local.set $inStep (i32.const 16))
                  (local.set $out (i32.add (local.get $v) (i32.add
                    (i32.shl (i32.add (i32.mul (local.get $t) (local.get $c)) (local.get $ch)) (i32.const 2))
                    (i32.mul (i32.mul (local.get $k) (i32.const 6)) (local.get $plane)))))
                  (local.set $outStep (local.get $plane))))
              (local.set $d0 (v128.load (local.get $in)))
              (local.set $d1 (v128.load (i32.add (local.get $in) (local.get $inStep))))
              (local.set $d2 (v128.load (i32.add (local.get $in) (i32.shl (local.get $inStep) (i32.const 1)))))
              (local.set $d3 (v128.load (i32.add (local.get $in) (i32.mul (local.get $inStep) (i32.const 3)))))
              (local.set $d4 (v128.load (i32.add (local.get $in) (i32.shl (local.get $inStep) (i32.const 2)))))
              (local.set $d5 (v128.load (i32.add (local.get $in) (i32.mul (local.get $inStep) (i32.const 5)))))
              ;; 4d0 - 5d2 + d4
              (v128.store (local.get $out)
                (f32x4.add (f32x4.sub (f32x4.mul (local.get $four) (local.get $d0)) (f32x4.mul (f32x4.splat (f32.const 5)) (local.get $d2))) (local.get $d4)))
              ;; -4(d1 + d2) + d3 + d4
              (v128.store (i32.add (local.get $out) (local.get $outStep))
                (f32x4.sub (f32x4.add (local.get $d3) (local.get $d4)) (f32x4.mul (local.get $four) (f32x4.add (local.get $d1) (local.get $d2)))))
              ;; 4(d1 - d2) - d3 + d4
              (v128.store (i32.add (local.get $out) (i32.shl (local.get $outStep) (i32.const 1)))
                (f32x4.add (f32x4.mul (local.get $four) (f32x4.sub (local.get $d1) (local.get $d2))) (f32x4.sub (local.get $d4) (local.get $d3))))
              ;; 2(d3 - d1) - d2 + d4
              (v128.store (i32.add (local.get $out) (i32.mul (local.get $outStep) (i32.const 3)))
                (f32x4.add (f32x4.add (f32x4.sub (local.get $d3) (local.get $d1)) (f32x4.sub (local.get $d3) (local.get $d1))) (f32x4.sub (local.get $d4) (local.get $d2))))
              ;; 2(d1 - d3) - d2 + d4
              (v128.store (i32.add (local.get $out) (i32.shl (local.get $outStep) (i32.const 2)))
                (f32x4.add (f32x4.add (f32x4.sub (local.get $d1) (local.get $d3)) (f32x4.sub (local.get $d1) (local.get $d3))) (f32x4.sub (local.get $d4) (local.get $d2))))
              ;; 4d1 - 5d3 + d5
              (v128.store (i32.add (local.get $out) (i32.mul (local.get $outStep) (i32.const 5)))
                (f32x4.add (f32x4.sub (f32x4.mul (local.get $four) (local.get $d1)) (f32x4.mul (f32x4.splat (f32.const 5)) (local.get $d3))) (local.get $d5)))
              (local.set $k (i32.add (local.get $k) (i32.const 1)))
              (br $kLoop)))
            (local.set $pass (i32.add (local.get $pass) (i32.const 1)))
            (br $passLoop)))
          (local.set $ch (i32.add (local.get $ch) (i32.const 4)))
          (br $chLoop)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (local.set $tx (i32.add (local.get $tx) (i32.const 1)))
        (br $txLoop)))
      (local.set $ty (i32.add (local.get $ty) (i32.const 1)))
      (br $tyLoop))))

  ;; y = bias + Aᵀ·M·A for each tile (see winograd5_conv), 4 output channels at a time: Aᵀ down each
  ;; column of M into s (2 rows × 6), then along s's two rows into the 2×2 outputs, those inside
  ;; the image. Aᵀ rows: (1 1 1 1 1 0), (0 1 -1 2 -2 1).
  (func $winograd5Output (param $mm i32) (param $s i32) (param $bias i32) (param $img i32) (param $oh i32) (param $ow i32) (param $o i32) (param $op i32) (param $tH i32) (param $tW i32)
    (local $ty i32) (local $tx i32) (local $oc i32) (local $cnt i32) (local $out v128) (local $t i32) (local $p i32) (local $plane i32) (local $pix i32) (local $rowB i32)
    (local $k i32) (local $in i32) (local $yp i32) (local $row1 i32) (local $col1 i32)
    (local $m0 v128) (local $m1 v128) (local $m2 v128) (local $m3 v128) (local $m4 v128) (local $m5 v128) (local $bv v128) (local $r0 v128) (local $r1 v128)
    (local.set $pix (i32.shl (local.get $o) (i32.const 2)))
    (local.set $rowB (i32.mul (local.get $ow) (local.get $pix)))
    (local.set $plane (i32.mul (i32.mul (i32.mul (local.get $tH) (local.get $tW)) (local.get $op)) (i32.const 4)))
    (local.set $t (i32.const 0))
    (local.set $ty (i32.const 0))
    (block $tyDone (loop $tyLoop
      (br_if $tyDone (i32.ge_s (local.get $ty) (local.get $tH)))
      (local.set $row1 (i32.lt_s (i32.add (i32.shl (local.get $ty) (i32.const 1)) (i32.const 1)) (local.get $oh)))
      (local.set $tx (i32.const 0))
      (block $txDone (loop $txLoop
        (br_if $txDone (i32.ge_s (local.get $tx) (local.get $tW)))
        (local.set $col1 (i32.lt_s (i32.add (i32.shl (local.get $tx) (i32.const 1)) (i32.const 1)) (local.get $ow)))
        (local.set $oc (i32.const 0))
        (block $ocDone (loop $ocLoop
          (br_if $ocDone (i32.ge_s (local.get $oc) (local.get $o)))
          (local.set $p (i32.add (local.get $mm) (i32.shl (i32.add (i32.mul (local.get $t) (local.get $op)) (local.get $oc)) (i32.const 2))))
          (local.set $cnt (i32.sub (local.get $o) (local.get $oc)))
          ;; column k of M (e = 6r + k, r = 0..5) → s[0][k], s[1][k]
          (local.set $k (i32.const 0))
          (block $kDone (loop $kLoop
            (br_if $kDone (i32.ge_s (local.get $k) (i32.const 6)))
            (local.set $in (i32.add (local.get $p) (i32.mul (local.get $k) (local.get $plane))))
            (local.set $m0 (v128.load (local.get $in)))
            (local.set $m1 (v128.load (i32.add (local.get $in) (i32.mul (local.get $plane) (i32.const 6)))))
            (local.set $m2 (v128.load (i32.add (local.get $in) (i32.mul (local.get $plane) (i32.const 12)))))
            (local.set $m3 (v128.load (i32.add (local.get $in) (i32.mul (local.get $plane) (i32.const 18)))))
            (local.set $m4 (v128.load (i32.add (local.get $in) (i32.mul (local.get $plane) (i32.const 24)))))
            (local.set $m5 (v128.load (i32.add (local.get $in) (i32.mul (local.get $plane) (i32.const 30)))))
            (v128.store (i32.add (local.get $s) (i32.shl (local.get $k) (i32.const 4)))
              (f32x4.add (f32x4.add (f32x4.add (local.get $m0) (local.get $m1)) (f32x4.add (local.get $m2) (local.get $m3))) (local.get $m4)))
            (v128.store (i32.add (local.get $s) (i32.add (i32.const 96) (i32.shl (local.get $k) (i32.const 4))))
              (f32x4.add (f32x4.add (f32x4.sub (local.get $m1) (local.get $m2)) (f32x4.add (f32x4.sub (local.get $m3) (local.get $m4)) (f32x4.sub (local.get $m3) (local.get $m4)))) (local.get $m5)))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $kLoop)))
          (if (local.get $bias)
            (then (local.set $bv (v128.load (i32.add (local.get $bias) (i32.shl (local.get $oc) (i32.const 2))))))
            (else (local.set $bv (v128.const i32x4 0 0 0 0))))
          (local.set $yp (i32.add (local.get $img) (i32.add
            (i32.add (i32.mul (i32.shl (local.get $ty) (i32.const 1)) (local.get $rowB)) (i32.mul (i32.shl (local.get $tx) (i32.const 1)) (local.get $pix)))
            (i32.shl (local.get $oc) (i32.const 2)))))
          ;; along s's rows: output row a is s[a] combined by Aᵀ's rows
          (local.set $k (i32.const 0))
          (block $aDone (loop $aLoop
            (br_if $aDone (i32.ge_s (local.get $k) (i32.const 2)))
            (if (i32.or (i32.eqz (local.get $k)) (local.get $row1)) (then
              (local.set $in (i32.add (local.get $s) (i32.mul (local.get $k) (i32.const 96))))
              (local.set $m0 (v128.load offset=0 (local.get $in)))
              (local.set $m1 (v128.load offset=16 (local.get $in)))
              (local.set $m2 (v128.load offset=32 (local.get $in)))
              (local.set $m3 (v128.load offset=48 (local.get $in)))
              (local.set $m4 (v128.load offset=64 (local.get $in)))
              (local.set $m5 (v128.load offset=80 (local.get $in)))
              (local.set $r0 (f32x4.add (f32x4.add (f32x4.add (local.get $m0) (local.get $m1)) (f32x4.add (local.get $m2) (local.get $m3))) (local.get $m4)))
              (local.set $r1 (f32x4.add (f32x4.add (f32x4.sub (local.get $m1) (local.get $m2)) (f32x4.add (f32x4.sub (local.get $m3) (local.get $m4)) (f32x4.sub (local.get $m3) (local.get $m4)))) (local.get $m5)))
              (local.set $out (f32x4.add (local.get $bv) (local.get $r0))) (if (i32.ge_s (local.get $cnt) (i32.const 4)) (then (v128.store (local.get $yp) (local.get $out))) (else (call $storePart (local.get $yp) (local.get $out) (local.get $cnt))))
              (if (local.get $col1) (then (local.set $out (f32x4.add (local.get $bv) (local.get $r1))) (if (i32.ge_s (local.get $cnt) (i32.const 4)) (then (v128.store (i32.add (local.get $yp) (local.get $pix)) (local.get $out))) (else (call $storePart (i32.add (local.get $yp) (local.get $pix)) (local.get $out) (local.get $cnt))))))))
            (local.set $yp (i32.add (local.get $yp) (local.get $rowB)))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $aLoop)))
          (local.set $oc (i32.add (local.get $oc) (i32.const 4)))
          (br $ocLoop)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (local.set $tx (i32.add (local.get $tx) (i32.const 1)))
        (br $txLoop)))
      (local.set $ty (i32.add (local.get $ty) (i32.const 1)))
      (br $tyLoop))))

  ;; Copies a batch of images [n, h, w, c] into [n, hp, wp, cp] (cp ≥ c) at row top and column
  ;; left, zeroing the rest (the padded input of winograd_conv, channels rounded up to 4).
  (func (export "pad_images")
    (param $src i32) (param $dst i32) (param $n i32) (param $h i32) (param $w i32) (param $c i32)
    (param $hp i32) (param $wp i32) (param $top i32) (param $left i32) (param $cp i32)
    (local $b i32) (local $r i32) (local $x i32) (local $pix i32) (local $dstPix i32) (local $rowBytes i32) (local $dstRow i32)
    (local $from i32) (local $to i32)
    (local.set $pix (i32.shl (local.get $c) (i32.const 2)))
    (local.set $dstPix (i32.shl (local.get $cp) (i32.const 2)))
    (local.set $rowBytes (i32.mul (local.get $w) (local.get $pix)))
    (local.set $dstRow (i32.mul (local.get $wp) (local.get $dstPix)))
    (memory.fill (local.get $dst) (i32.const 0) (i32.mul (i32.mul (local.get $n) (local.get $hp)) (local.get $dstRow)))
    (local.set $b (i32.const 0))
    (block $bDone (loop $bLoop
      (br_if $bDone (i32.ge_s (local.get $b) (local.get $n)))
      (local.set $r (i32.const 0))
      (block $rDone (loop $rLoop
        (br_if $rDone (i32.ge_s (local.get $r) (local.get $h)))
        (local.set $from (i32.add (local.get $src) (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $r)) (local.get $rowBytes))))
        (local.set $to (i32.add (local.get $dst) (i32.add
          (i32.mul (i32.add (i32.mul (local.get $b) (local.get $hp)) (i32.add (local.get $r) (local.get $top))) (local.get $dstRow))
          (i32.mul (local.get $left) (local.get $dstPix)))))
        (if (i32.eq (local.get $cp) (local.get $c))
          (then (memory.copy (local.get $to) (local.get $from) (local.get $rowBytes)))
          (else
            (local.set $x (i32.const 0))
            (block $xDone (loop $xLoop
              (br_if $xDone (i32.ge_s (local.get $x) (local.get $w)))
              (memory.copy (i32.add (local.get $to) (i32.mul (local.get $x) (local.get $dstPix))) (i32.add (local.get $from) (i32.mul (local.get $x) (local.get $pix))) (local.get $pix))
              (local.set $x (i32.add (local.get $x) (i32.const 1)))
              (br $xLoop)))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rLoop)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $bLoop))))

  ;; Stores the first min(count, 4) lanes of v at addr (a channel block cut short by the tensor's end).
  (func $storePart (param $addr i32) (param $v v128) (param $count i32)
    (if (i32.ge_s (local.get $count) (i32.const 4)) (then (v128.store (local.get $addr) (local.get $v)) (return)))
    (if (i32.ge_s (local.get $count) (i32.const 2))
      (then
        (v128.store64_lane 0 (local.get $addr) (local.get $v))
        (if (i32.eq (local.get $count) (i32.const 3)) (then (v128.store32_lane offset=8 2 (local.get $addr) (local.get $v)))))
      (else (v128.store32_lane 0 (local.get $addr) (local.get $v)))))

  ;; Conv2DBackpropFilter (and a Dense layer's xᵀ·dy), register-blocked:
  ;;   dW[i, k, oc] += Σ_{b, y, xx} x[b, y·sh + i - top, xx·sw·c + k] · dy[b, y, xx, oc]
  ;; with x column-padded as for conv_forward ([n, h, wp, c]), dW [fh, kRows, o] (zeroed by the
  ;; caller; kRows a multiple of 4, ≥ fw·c: rows k ≥ fw·c take products with whatever follows a
  ;; tap row's values in x, up to 12 bytes past it, and the caller drops them) and dy [n, oh, ow, o].
  ;; Every element sums over b, then y, then xx, one MADD per term, accumulating in dW from one
  ;; image to the next (as conv_filter_grad does). Rows of padding are skipped; padded columns add
  ;; products with zero. A tile is 4 consecutive k (4 neighbouring values of x, broadcast) × 8
  ;; channels of dy (8 accumulators): each dy vector serves 4 taps. Tiles of dy channels are
  ;; outermost per tap row, so a tile's strip of the image's dy stays in L1 while every k passes
  ;; over it. The last channels go 4 at a time (a block cut short by o reads past it, into the next
  ;; pixel's channels or up to 12 bytes past dy, but stores only the channels below o).
  (func (export "conv_filter_grad")
    (param $x i32) (param $dy i32) (param $dW i32)
    (param $n i32) (param $h i32) (param $wp i32) (param $c i32)
    (param $oh i32) (param $ow i32) (param $o i32)
    (param $fh i32) (param $fw i32) (param $sh i32) (param $sw i32) (param $top i32) (param $kRows i32)
    (local $b i32) (local $i i32) (local $yLo i32) (local $yHi i32) (local $y0 i32) (local $y1 i32) (local $y i32) (local $iy i32) (local $chunk i32)
    (local $kb i32) (local $ob i32) (local $cnt i32) (local $oBytes i32) (local $pixStep i32) (local $rowBytes i32) (local $dyRowBytes i32)
    (local $xRow i32) (local $dyRow i32) (local $dwRow i32) (local $dwp i32)
    (local $xp i32) (local $dyp i32) (local $dyEnd i32)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128)
    (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
    (local $d0 v128) (local $d1 v128) (local $s v128)
    (local.set $oBytes (i32.shl (local.get $o) (i32.const 2)))
    (local.set $pixStep (i32.shl (i32.mul (local.get $sw) (local.get $c)) (i32.const 2)))
    (local.set $rowBytes (i32.shl (i32.mul (local.get $wp) (local.get $c)) (i32.const 2)))
    (local.set $dyRowBytes (i32.mul (local.get $ow) (local.get $oBytes)))
    (local.set $chunk (i32.div_u (i32.const 64) (local.get $ow)))
    (if (i32.eqz (local.get $chunk)) (then (local.set $chunk (i32.const 1))))
    (local.set $b (i32.const 0))
    (block $bDone (loop $bLoop
      (br_if $bDone (i32.ge_s (local.get $b) (local.get $n)))
      (local.set $i (i32.const 0))
      (block $iDone (loop $iLoop
        (br_if $iDone (i32.ge_s (local.get $i) (local.get $fh)))
        ;; output rows y in [yLo, yHi) whose tap row i lands inside the image
        (local.set $yLo (i32.const 0))
        (block $y0Done (loop $y0Loop
          (br_if $y0Done (i32.ge_s (local.get $yLo) (local.get $oh)))
          (br_if $y0Done (i32.ge_s (i32.sub (i32.add (i32.mul (local.get $yLo) (local.get $sh)) (local.get $i)) (local.get $top)) (i32.const 0)))
          (local.set $yLo (i32.add (local.get $yLo) (i32.const 1)))
          (br $y0Loop)))
        (local.set $yHi (local.get $oh))
        (block $y1Done (loop $y1Loop
          (br_if $y1Done (i32.le_s (local.get $yHi) (local.get $yLo)))
          (br_if $y1Done (i32.lt_s (i32.sub (i32.add (i32.mul (i32.sub (local.get $yHi) (i32.const 1)) (local.get $sh)) (local.get $i)) (local.get $top)) (local.get $h)))
          (local.set $yHi (i32.sub (local.get $yHi) (i32.const 1)))
          (br $y1Loop)))
        (local.set $dwRow (i32.add (local.get $dW) (i32.mul (i32.mul (local.get $i) (local.get $kRows)) (local.get $oBytes))))
        ;; a few output rows [y0, y1) at a time, ~64 pixels: their strips of x and dy stay in L1
        ;; whatever the channel count's stride does to cache sets
        (local.set $y0 (local.get $yLo))
        (block $chunkDone (loop $chunkLoop
        (br_if $chunkDone (i32.ge_s (local.get $y0) (local.get $yHi)))
        (local.set $y1 (i32.add (local.get $y0) (local.get $chunk)))
        (if (i32.gt_s (local.get $y1) (local.get $yHi)) (then (local.set $y1 (local.get $yHi))))
        ;; x of (b, tap row i at output row y0, column 0) and dy of (b, y0, 0)
        (local.set $iy (i32.sub (i32.add (i32.mul (local.get $y0) (local.get $sh)) (local.get $i)) (local.get $top)))
        (local.set $xRow (i32.add (local.get $x) (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $iy)) (local.get $rowBytes))))
        (local.set $dyRow (i32.add (local.get $dy) (i32.mul (i32.add (i32.mul (local.get $b) (local.get $oh)) (local.get $y0)) (local.get $dyRowBytes))))
        (block $chunkBody
          (local.set $ob (i32.const 0))
          (block $obDone (loop $obLoop
            (br_if $obDone (i32.ge_s (local.get $ob) (local.get $o)))
            (local.set $cnt (i32.sub (local.get $o) (local.get $ob)))
            (if (i32.ge_s (local.get $cnt) (i32.const 8))
              (then
                ;; 4 k × 8 channels
                (local.set $kb (i32.const 0))
                (block $kbDone (loop $kbLoop
                  (br_if $kbDone (i32.ge_s (local.get $kb) (local.get $kRows)))
                  (local.set $dwp (i32.add (local.get $dwRow) (i32.add (i32.mul (local.get $kb) (local.get $oBytes)) (i32.shl (local.get $ob) (i32.const 2)))))
                  (local.set $a00 (v128.load offset=0 (local.get $dwp))) (local.set $a01 (v128.load offset=16 (local.get $dwp)))
                  (local.set $a10 (v128.load offset=0 (i32.add (local.get $dwp) (local.get $oBytes)))) (local.set $a11 (v128.load offset=16 (i32.add (local.get $dwp) (local.get $oBytes))))
                  (local.set $a20 (v128.load offset=0 (i32.add (local.get $dwp) (i32.shl (local.get $oBytes) (i32.const 1))))) (local.set $a21 (v128.load offset=16 (i32.add (local.get $dwp) (i32.shl (local.get $oBytes) (i32.const 1)))))
                  (local.set $a30 (v128.load offset=0 (i32.add (local.get $dwp) (i32.mul (local.get $oBytes) (i32.const 3))))) (local.set $a31 (v128.load offset=16 (i32.add (local.get $dwp) (i32.mul (local.get $oBytes) (i32.const 3)))))
                  (local.set $y (local.get $y0))
                  (local.set $xp (i32.add (local.get $xRow) (i32.shl (local.get $kb) (i32.const 2))))
                  (local.set $dyp (i32.add (local.get $dyRow) (i32.shl (local.get $ob) (i32.const 2))))
                  (loop $yLoop
                    (local.set $dyEnd (i32.add (local.get $dyp) (local.get $dyRowBytes)))
                    (loop $px
                      (local.set $d0 (v128.load offset=0 (local.get $dyp)))
                      (local.set $d1 (v128.load offset=16 (local.get $dyp)))
                      (local.set $s (v128.load32_splat offset=0 (local.get $xp)))
                      MADD($a00, $s, $d0) MADD($a01, $s, $d1)
                      (local.set $s (v128.load32_splat offset=4 (local.get $xp)))
                      MADD($a10, $s, $d0) MADD($a11, $s, $d1)
                      (local.set $s (v128.load32_splat offset=8 (local.get $xp)))
                      MADD($a20, $s, $d0) MADD($a21, $s, $d1)
                      (local.set $s (v128.load32_splat offset=12 (local.get $xp)))
                      MADD($a30, $s, $d0) MADD($a31, $s, $d1)
                      (local.set $xp (i32.add (local.get $xp) (local.get $pixStep)))
                      (local.set $dyp (i32.add (local.get $dyp) (local.get $oBytes)))
                      (br_if $px (i32.lt_u (local.get $dyp) (local.get $dyEnd))))
                    ;; next output row: x moves sh input rows from this row's start, dy is already there
                    (local.set $xp (i32.add (i32.sub (local.get $xp) (i32.mul (local.get $ow) (local.get $pixStep))) (i32.mul (local.get $sh) (local.get $rowBytes))))
                    (local.set $y (i32.add (local.get $y) (i32.const 1)))
                    (br_if $yLoop (i32.lt_s (local.get $y) (local.get $y1))))
                  (v128.store offset=0 (local.get $dwp) (local.get $a00)) (v128.store offset=16 (local.get $dwp) (local.get $a01))
                  (local.set $dwp (i32.add (local.get $dwp) (local.get $oBytes)))
                  (v128.store offset=0 (local.get $dwp) (local.get $a10)) (v128.store offset=16 (local.get $dwp) (local.get $a11))
                  (local.set $dwp (i32.add (local.get $dwp) (local.get $oBytes)))
                  (v128.store offset=0 (local.get $dwp) (local.get $a20)) (v128.store offset=16 (local.get $dwp) (local.get $a21))
                  (local.set $dwp (i32.add (local.get $dwp) (local.get $oBytes)))
                  (v128.store offset=0 (local.get $dwp) (local.get $a30)) (v128.store offset=16 (local.get $dwp) (local.get $a31))
                  (local.set $kb (i32.add (local.get $kb) (i32.const 4)))
                  (br $kbLoop)))
                (local.set $ob (i32.add (local.get $ob) (i32.const 8))))
              (else
                ;; fewer than 8 channels left: 4 k × 4 channels (the block may hold fewer than 4)
                (local.set $kb (i32.const 0))
                (block $kb4Done (loop $kb4Loop
                  (br_if $kb4Done (i32.ge_s (local.get $kb) (local.get $kRows)))
                  (local.set $dwp (i32.add (local.get $dwRow) (i32.add (i32.mul (local.get $kb) (local.get $oBytes)) (i32.shl (local.get $ob) (i32.const 2)))))
                  (local.set $a00 (call $loadPart (local.get $dwp) (local.get $cnt)))
                  (local.set $a10 (call $loadPart (i32.add (local.get $dwp) (local.get $oBytes)) (local.get $cnt)))
                  (local.set $a20 (call $loadPart (i32.add (local.get $dwp) (i32.shl (local.get $oBytes) (i32.const 1))) (local.get $cnt)))
                  (local.set $a30 (call $loadPart (i32.add (local.get $dwp) (i32.mul (local.get $oBytes) (i32.const 3))) (local.get $cnt)))
                  (local.set $y (local.get $y0))
                  (local.set $xp (i32.add (local.get $xRow) (i32.shl (local.get $kb) (i32.const 2))))
                  (local.set $dyp (i32.add (local.get $dyRow) (i32.shl (local.get $ob) (i32.const 2))))
                  (loop $yLoop4
                    (local.set $dyEnd (i32.add (local.get $dyp) (local.get $dyRowBytes)))
                    (loop $px4
                      (local.set $d0 (v128.load (local.get $dyp)))
                      (local.set $s (v128.load32_splat offset=0 (local.get $xp)))
                      MADD($a00, $s, $d0)
                      (local.set $s (v128.load32_splat offset=4 (local.get $xp)))
                      MADD($a10, $s, $d0)
                      (local.set $s (v128.load32_splat offset=8 (local.get $xp)))
                      MADD($a20, $s, $d0)
                      (local.set $s (v128.load32_splat offset=12 (local.get $xp)))
                      MADD($a30, $s, $d0)
                      (local.set $xp (i32.add (local.get $xp) (local.get $pixStep)))
                      (local.set $dyp (i32.add (local.get $dyp) (local.get $oBytes)))
                      (br_if $px4 (i32.lt_u (local.get $dyp) (local.get $dyEnd))))
                    (local.set $xp (i32.add (i32.sub (local.get $xp) (i32.mul (local.get $ow) (local.get $pixStep))) (i32.mul (local.get $sh) (local.get $rowBytes))))
                    (local.set $y (i32.add (local.get $y) (i32.const 1)))
                    (br_if $yLoop4 (i32.lt_s (local.get $y) (local.get $y1))))
                  (call $storePart (local.get $dwp) (local.get $a00) (local.get $cnt))
                  (local.set $dwp (i32.add (local.get $dwp) (local.get $oBytes)))
                  (call $storePart (local.get $dwp) (local.get $a10) (local.get $cnt))
                  (local.set $dwp (i32.add (local.get $dwp) (local.get $oBytes)))
                  (call $storePart (local.get $dwp) (local.get $a20) (local.get $cnt))
                  (local.set $dwp (i32.add (local.get $dwp) (local.get $oBytes)))
                  (call $storePart (local.get $dwp) (local.get $a30) (local.get $cnt))
                  (local.set $kb (i32.add (local.get $kb) (i32.const 4)))
                  (br $kb4Loop)))
                (local.set $ob (i32.add (local.get $ob) (i32.const 4)))))
            (br $obLoop))))
        (local.set $y0 (local.get $y1))
        (br $chunkLoop)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $iLoop)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $bLoop))))

  ;; Loads the first min(count, 4) lanes at addr, the others zero (the counterpart of $storePart).
  (func $loadPart (param $addr i32) (param $count i32) (result v128)
    (if (i32.ge_s (local.get $count) (i32.const 4)) (then (return (v128.load (local.get $addr)))))
    (if (i32.ge_s (local.get $count) (i32.const 2))
      (then
        (if (i32.eq (local.get $count) (i32.const 3))
          (then (return (v128.load32_lane offset=8 2 (local.get $addr) (v128.load64_zero (local.get $addr))))))
        (return (v128.load64_zero (local.get $addr)))))
    (v128.load32_zero (local.get $addr)))

  ;; Optimizer updates, fused: one pass instead of one tensor op per arithmetic step. Each does the
  ;; f32 operations of ml/optimizers.ts's tensor formulation in the same order, so the results are
  ;; bit for bit the same (test/ml/fused-optimizers.test.ts); `n` elements, outputs are new buffers.

  ;; SGD:  p' = p - g·lr
  (func (export "sgd_update") (param $p i32) (param $g i32) (param $pOut i32) (param $n i32) (param $lr f32)
    (local $end i32) (local $lrV v128)
    (local.set $lrV (f32x4.splat (local.get $lr)))
    (local.set $end (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $vDone (loop $v
      (br_if $vDone (i32.ge_u (local.get $p) (local.get $end)))
      (v128.store (local.get $pOut) (f32x4.sub (v128.load (local.get $p)) (f32x4.mul (v128.load (local.get $g)) (local.get $lrV))))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (local.set $g (i32.add (local.get $g) (i32.const 16)))
      (local.set $pOut (i32.add (local.get $pOut) (i32.const 16)))
      (br $v)))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))
    (block $sDone (loop $s
      (br_if $sDone (i32.ge_u (local.get $p) (local.get $end)))
      (f32.store (local.get $pOut) (f32.sub (f32.load (local.get $p)) (f32.mul (f32.load (local.get $g)) (local.get $lr))))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (local.set $g (i32.add (local.get $g) (i32.const 4)))
      (local.set $pOut (i32.add (local.get $pOut) (i32.const 4)))
      (br $s))))

  ;; SGD with momentum:  buf' = buf·momentum + g;  p' = p - buf'·lr
  (func (export "sgd_momentum_update")
    (param $p i32) (param $g i32) (param $buf i32) (param $pOut i32) (param $bufOut i32) (param $n i32)
    (param $momentum f32) (param $lr f32)
    (local $end i32) (local $momV v128) (local $lrV v128) (local $b v128) (local $bs f32)
    (local.set $momV (f32x4.splat (local.get $momentum)))
    (local.set $lrV (f32x4.splat (local.get $lr)))
    (local.set $end (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $vDone (loop $v
      (br_if $vDone (i32.ge_u (local.get $p) (local.get $end)))
      (local.set $b (f32x4.add (f32x4.mul (v128.load (local.get $buf)) (local.get $momV)) (v128.load (local.get $g))))
      (v128.store (local.get $bufOut) (local.get $b))
      (v128.store (local.get $pOut) (f32x4.sub (v128.load (local.get $p)) (f32x4.mul (local.get $b) (local.get $lrV))))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (local.set $g (i32.add (local.get $g) (i32.const 16)))
      (local.set $buf (i32.add (local.get $buf) (i32.const 16)))
      (local.set $pOut (i32.add (local.get $pOut) (i32.const 16)))
      (local.set $bufOut (i32.add (local.get $bufOut) (i32.const 16)))
      (br $v)))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))
    (block $sDone (loop $s
      (br_if $sDone (i32.ge_u (local.get $p) (local.get $end)))
      (local.set $bs (f32.add (f32.mul (f32.load (local.get $buf)) (local.get $momentum)) (f32.load (local.get $g))))
      (f32.store (local.get $bufOut) (local.get $bs))
      (f32.store (local.get $pOut) (f32.sub (f32.load (local.get $p)) (f32.mul (local.get $bs) (local.get $lr))))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (local.set $g (i32.add (local.get $g) (i32.const 4)))
      (local.set $buf (i32.add (local.get $buf) (i32.const 4)))
      (local.set $pOut (i32.add (local.get $pOut) (i32.const 4)))
      (local.set $bufOut (i32.add (local.get $bufOut) (i32.const 4)))
      (br $s))))

  ;; RMSprop:  v' = v·alpha + g²·(1 - alpha);  p' = p - (g·lr) / (sqrt(v') + eps)
  (func (export "rmsprop_update")
    (param $p i32) (param $g i32) (param $v i32) (param $pOut i32) (param $vOut i32) (param $n i32)
    (param $alpha f32) (param $oneMinusAlpha f32) (param $lr f32) (param $eps f32)
    (local $end i32) (local $aV v128) (local $omaV v128) (local $lrV v128) (local $epsV v128)
    (local $gv v128) (local $vv v128) (local $gs f32) (local $vs f32)
    (local.set $aV (f32x4.splat (local.get $alpha)))
    (local.set $omaV (f32x4.splat (local.get $oneMinusAlpha)))
    (local.set $lrV (f32x4.splat (local.get $lr)))
    (local.set $epsV (f32x4.splat (local.get $eps)))
    (local.set $end (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $vDone (loop $l
      (br_if $vDone (i32.ge_u (local.get $p) (local.get $end)))
      (local.set $gv (v128.load (local.get $g)))
      (local.set $vv (f32x4.add (f32x4.mul (v128.load (local.get $v)) (local.get $aV))
                                (f32x4.mul (f32x4.mul (local.get $gv) (local.get $gv)) (local.get $omaV))))
      (v128.store (local.get $vOut) (local.get $vv))
      (v128.store (local.get $pOut) (f32x4.sub (v128.load (local.get $p))
        (f32x4.div (f32x4.mul (local.get $gv) (local.get $lrV)) (f32x4.add (f32x4.sqrt (local.get $vv)) (local.get $epsV)))))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (local.set $g (i32.add (local.get $g) (i32.const 16)))
      (local.set $v (i32.add (local.get $v) (i32.const 16)))
      (local.set $pOut (i32.add (local.get $pOut) (i32.const 16)))
      (local.set $vOut (i32.add (local.get $vOut) (i32.const 16)))
      (br $l)))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))
    (block $sDone (loop $s
      (br_if $sDone (i32.ge_u (local.get $p) (local.get $end)))
      (local.set $gs (f32.load (local.get $g)))
      (local.set $vs (f32.add (f32.mul (f32.load (local.get $v)) (local.get $alpha))
                              (f32.mul (f32.mul (local.get $gs) (local.get $gs)) (local.get $oneMinusAlpha))))
      (f32.store (local.get $vOut) (local.get $vs))
      (f32.store (local.get $pOut) (f32.sub (f32.load (local.get $p))
        (f32.div (f32.mul (local.get $gs) (local.get $lr)) (f32.add (f32.sqrt (local.get $vs)) (local.get $eps)))))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (local.set $g (i32.add (local.get $g) (i32.const 4)))
      (local.set $v (i32.add (local.get $v) (i32.const 4)))
      (local.set $pOut (i32.add (local.get $pOut) (i32.const 4)))
      (local.set $vOut (i32.add (local.get $vOut) (i32.const 4)))
      (br $s))))

  ;; Adam:  m' = m·b1 + g·(1 - b1);  v' = v·b2 + g²·(1 - b2);
  ;;        p' = p - (m' / (sqrt(v') / sqrtBias2 + eps))·stepSize
  (func (export "adam_update")
    (param $p i32) (param $g i32) (param $m i32) (param $v i32)
    (param $pOut i32) (param $mOut i32) (param $vOut i32) (param $n i32)
    (param $b1 f32) (param $oneMinusB1 f32) (param $b2 f32) (param $oneMinusB2 f32)
    (param $sqrtBias2 f32) (param $eps f32) (param $stepSize f32)
    (local $end i32) (local $b1V v128) (local $omb1V v128) (local $b2V v128) (local $omb2V v128)
    (local $sbV v128) (local $epsV v128) (local $stepV v128)
    (local $gv v128) (local $mv v128) (local $vv v128) (local $gs f32) (local $ms f32) (local $vs f32)
    (local.set $b1V (f32x4.splat (local.get $b1)))
    (local.set $omb1V (f32x4.splat (local.get $oneMinusB1)))
    (local.set $b2V (f32x4.splat (local.get $b2)))
    (local.set $omb2V (f32x4.splat (local.get $oneMinusB2)))
    (local.set $sbV (f32x4.splat (local.get $sqrtBias2)))
    (local.set $epsV (f32x4.splat (local.get $eps)))
    (local.set $stepV (f32x4.splat (local.get $stepSize)))
    (local.set $end (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $vDone (loop $l
      (br_if $vDone (i32.ge_u (local.get $p) (local.get $end)))
      (local.set $gv (v128.load (local.get $g)))
      (local.set $mv (f32x4.add (f32x4.mul (v128.load (local.get $m)) (local.get $b1V)) (f32x4.mul (local.get $gv) (local.get $omb1V))))
      (local.set $vv (f32x4.add (f32x4.mul (v128.load (local.get $v)) (local.get $b2V))
                                (f32x4.mul (f32x4.mul (local.get $gv) (local.get $gv)) (local.get $omb2V))))
      (v128.store (local.get $mOut) (local.get $mv))
      (v128.store (local.get $vOut) (local.get $vv))
      (v128.store (local.get $pOut) (f32x4.sub (v128.load (local.get $p))
        (f32x4.mul (f32x4.div (local.get $mv)
                              (f32x4.add (f32x4.div (f32x4.sqrt (local.get $vv)) (local.get $sbV)) (local.get $epsV)))
                   (local.get $stepV))))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (local.set $g (i32.add (local.get $g) (i32.const 16)))
      (local.set $m (i32.add (local.get $m) (i32.const 16)))
      (local.set $v (i32.add (local.get $v) (i32.const 16)))
      (local.set $pOut (i32.add (local.get $pOut) (i32.const 16)))
      (local.set $mOut (i32.add (local.get $mOut) (i32.const 16)))
      (local.set $vOut (i32.add (local.get $vOut) (i32.const 16)))
      (br $l)))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))
    (block $sDone (loop $s
      (br_if $sDone (i32.ge_u (local.get $p) (local.get $end)))
      (local.set $gs (f32.load (local.get $g)))
      (local.set $ms (f32.add (f32.mul (f32.load (local.get $m)) (local.get $b1)) (f32.mul (local.get $gs) (local.get $oneMinusB1))))
      (local.set $vs (f32.add (f32.mul (f32.load (local.get $v)) (local.get $b2))
                              (f32.mul (f32.mul (local.get $gs) (local.get $gs)) (local.get $oneMinusB2))))
      (f32.store (local.get $mOut) (local.get $ms))
      (f32.store (local.get $vOut) (local.get $vs))
      (f32.store (local.get $pOut) (f32.sub (f32.load (local.get $p))
        (f32.mul (f32.div (local.get $ms)
                          (f32.add (f32.div (f32.sqrt (local.get $vs)) (local.get $sqrtBias2)) (local.get $eps)))
                 (local.get $stepSize))))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (local.set $g (i32.add (local.get $g) (i32.const 4)))
      (local.set $m (i32.add (local.get $m) (i32.const 4)))
      (local.set $v (i32.add (local.get $v) (i32.const 4)))
      (local.set $pOut (i32.add (local.get $pOut) (i32.const 4)))
      (local.set $mOut (i32.add (local.get $mOut) (i32.const 4)))
      (local.set $vOut (i32.add (local.get $vOut) (i32.const 4)))
      (br $s))))
)
