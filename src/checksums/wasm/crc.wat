;; Reflected CRC kernels for s3tx: CRC32C by slicing-by-16 and CRC64NVME by
;; slicing-by-8. Compiled to crc-module.ts by scripts/build-wasm.mjs.
;;
;; Memory: the CRC32C tables (16 x 256 x i32) at 0, the CRC64NVME tables
;; (8 x 256 x i64) at 16384, and the caller's bytes from 32768, copied there in
;; slices: 64 KiB for the table kernels; for folding, 512 KiB after the 41 KiB
;; of folded words they need before them. Table k advances a byte k+1 places,
;; so in one step the first byte of the block goes through the last table.
;; Registers are pre-inverted: callers start from all ones and invert the result.
(module
  (memory (export "memory") 10)

  (global $crc32c_polynomial i32 (i32.const 0x82f63b78))
  (global $crc64_polynomial i64 (i64.const 0x9a6c9329ac4bc9b5))

  ;; Fills both sets of tables; call once after instantiating.
  (func (export "init")
    (local $n i32) (local $k i32) (local $c i32) (local $c64 i64) (local $at i32)
    (local.set $n (i32.const 0))
    (loop $bytes
      (local.set $c (local.get $n))
      (local.set $c64 (i64.extend_i32_u (local.get $n)))
      (local.set $k (i32.const 0))
      (loop $bits
        (local.set $c
          (i32.xor (i32.shr_u (local.get $c) (i32.const 1))
                   (i32.and (global.get $crc32c_polynomial) (i32.sub (i32.const 0) (i32.and (local.get $c) (i32.const 1))))))
        (local.set $c64
          (i64.xor (i64.shr_u (local.get $c64) (i64.const 1))
                   (i64.and (global.get $crc64_polynomial) (i64.sub (i64.const 0) (i64.and (local.get $c64) (i64.const 1))))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br_if $bits (i32.lt_u (local.get $k) (i32.const 8))))
      (i32.store (i32.shl (local.get $n) (i32.const 2)) (local.get $c))
      (i64.store offset=16384 (i32.shl (local.get $n) (i32.const 3)) (local.get $c64))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br_if $bytes (i32.lt_u (local.get $n) (i32.const 256))))
    ;; Table k from table k-1: one more byte of zeros.
    (local.set $at (i32.const 256))
    (loop $crc32c_tables
      (local.set $c (i32.load (i32.shl (i32.sub (local.get $at) (i32.const 256)) (i32.const 2))))
      (i32.store (i32.shl (local.get $at) (i32.const 2))
        (i32.xor (i32.shr_u (local.get $c) (i32.const 8))
                 (i32.load (i32.shl (i32.and (local.get $c) (i32.const 255)) (i32.const 2)))))
      (local.set $at (i32.add (local.get $at) (i32.const 1)))
      (br_if $crc32c_tables (i32.lt_u (local.get $at) (i32.const 4096))))
    (local.set $at (i32.const 256))
    (loop $crc64_tables
      (local.set $c64 (i64.load offset=16384 (i32.shl (i32.sub (local.get $at) (i32.const 256)) (i32.const 3))))
      (i64.store offset=16384 (i32.shl (local.get $at) (i32.const 3))
        (i64.xor (i64.shr_u (local.get $c64) (i64.const 8))
                 (i64.load offset=16384 (i32.shl (i32.and (i32.wrap_i64 (local.get $c64)) (i32.const 255)) (i32.const 3)))))
      (local.set $at (i32.add (local.get $at) (i32.const 1)))
      (br_if $crc64_tables (i32.lt_u (local.get $at) (i32.const 2048)))))

  ;; Advances a CRC32C register over n bytes at p.
  (func (export "crc32c") (param $crc i32) (param $p i32) (param $n i32) (result i32)
    (local $end i32) (local $a i32)
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    ;; Whole 16-byte blocks.
    (block $blocks_done
      (br_if $blocks_done (i32.lt_u (local.get $n) (i32.const 16)))
      (local.set $n (i32.sub (local.get $end) (i32.const 16)))
      (loop $blocks
        ;; The register meets the first four bytes as a word; the other twelve are read a byte
        ;; at a time, which takes fewer instructions than shifting them out of words.
        (local.set $a (i32.xor (i32.load (local.get $p)) (local.get $crc)))
        (local.set $crc
          (i32.xor
            (i32.xor
              (i32.xor
                (i32.xor (i32.load offset=15360 (i32.shl (i32.and (local.get $a) (i32.const 255)) (i32.const 2)))
                         (i32.load offset=14336 (i32.and (i32.shr_u (local.get $a) (i32.const 6)) (i32.const 1020))))
                (i32.xor (i32.load offset=13312 (i32.and (i32.shr_u (local.get $a) (i32.const 14)) (i32.const 1020)))
                         (i32.load offset=12288 (i32.shl (i32.shr_u (local.get $a) (i32.const 24)) (i32.const 2)))))
              (i32.xor
                (i32.xor (i32.load offset=11264 (i32.shl (i32.load8_u offset=4 (local.get $p)) (i32.const 2)))
                         (i32.load offset=10240 (i32.shl (i32.load8_u offset=5 (local.get $p)) (i32.const 2))))
                (i32.xor (i32.load offset=9216 (i32.shl (i32.load8_u offset=6 (local.get $p)) (i32.const 2)))
                         (i32.load offset=8192 (i32.shl (i32.load8_u offset=7 (local.get $p)) (i32.const 2))))))
            (i32.xor
              (i32.xor
                (i32.xor (i32.load offset=7168 (i32.shl (i32.load8_u offset=8 (local.get $p)) (i32.const 2)))
                         (i32.load offset=6144 (i32.shl (i32.load8_u offset=9 (local.get $p)) (i32.const 2))))
                (i32.xor (i32.load offset=5120 (i32.shl (i32.load8_u offset=10 (local.get $p)) (i32.const 2)))
                         (i32.load offset=4096 (i32.shl (i32.load8_u offset=11 (local.get $p)) (i32.const 2)))))
              (i32.xor
                (i32.xor (i32.load offset=3072 (i32.shl (i32.load8_u offset=12 (local.get $p)) (i32.const 2)))
                         (i32.load offset=2048 (i32.shl (i32.load8_u offset=13 (local.get $p)) (i32.const 2))))
                (i32.xor (i32.load offset=1024 (i32.shl (i32.load8_u offset=14 (local.get $p)) (i32.const 2)))
                         (i32.load (i32.shl (i32.load8_u offset=15 (local.get $p)) (i32.const 2))))))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br_if $blocks (i32.le_u (local.get $p) (local.get $n)))))
    ;; The rest, a byte at a time.
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $crc
          (i32.xor (i32.shr_u (local.get $crc) (i32.const 8))
                   (i32.load (i32.shl (i32.and (i32.xor (local.get $crc) (i32.load8_u (local.get $p))) (i32.const 255)) (i32.const 2)))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $tail)))
    (local.get $crc))

  ;; Folds the 8-byte words [p, p + 8 * count) without changing the message's CRC32C, in place.
  ;; x^(64*5275) = x^(64*4508) + x^(64*2751) + 1 modulo the CRC32C polynomial (found by search), so
  ;; any word may be cleared and added instead to the words 767, 2524 and 5275 after it. Done to every
  ;; word in turn, a word ends up as itself plus the folded words 767, 2524 and 5275 before it: three
  ;; loads and one store per word, where adding forward took three stores. The 5275 words before p
  ;; must hold the folded words that came before (zeros at the start of a message). Two words at a
  ;; time in a SIMD register (the nearest source is 767 words back, so a pair never feeds itself).
  (func (export "crc32c_fold") (param $p i32) (param $count i32)
    (local $q i32) (local $end i32)
    ;; Addressed from 5275 words back, since offsets cannot be negative.
    (local.set $q (i32.sub (local.get $p) (i32.const 42200)))
    (local.set $end (i32.add (local.get $q) (i32.shl (local.get $count) (i32.const 3))))
    (block $pairs_done
      (br_if $pairs_done (i32.gt_u (i32.add (local.get $q) (i32.const 16)) (local.get $end)))
      (loop $pairs
        (v128.store offset=42200 (local.get $q)
          (v128.xor
            (v128.xor (v128.load offset=42200 (local.get $q)) (v128.load offset=36064 (local.get $q)))
            (v128.xor (v128.load offset=22008 (local.get $q)) (v128.load (local.get $q)))))
        (local.set $q (i32.add (local.get $q) (i32.const 16)))
        (br_if $pairs (i32.le_u (i32.add (local.get $q) (i32.const 16)) (local.get $end)))))
    (if (i32.lt_u (local.get $q) (local.get $end))
      (then
        (i64.store offset=42200 (local.get $q)
          (i64.xor
            (i64.xor (i64.load offset=42200 (local.get $q)) (i64.load offset=36064 (local.get $q)))
            (i64.xor (i64.load offset=22008 (local.get $q)) (i64.load (local.get $q))))))))

  ;; Turns the last 5275 folded words of a message, at m, into its remainder for crc32c to finish.
  ;; Those words were folded as if the message went on, but a word within 5275 of the end has no
  ;; words to be added to: each gives back what it added to the words 767 and 2524 after it. Last
  ;; word first, so that every word gives back its value as folded.
  (func (export "crc32c_unfold") (param $m i32)
    (local $k i32) (local $word i64)
    (local.set $k (i32.add (local.get $m) (i32.const 42192)))
    (loop $words
      (local.set $word (i64.load (local.get $k)))
      (if (i32.ge_u (i32.sub (local.get $k) (i32.const 6136)) (local.get $m))
        (then (local.set $word (i64.xor (local.get $word) (i64.load (i32.sub (local.get $k) (i32.const 6136)))))))
      (if (i32.ge_u (i32.sub (local.get $k) (i32.const 20192)) (local.get $m))
        (then (local.set $word (i64.xor (local.get $word) (i64.load (i32.sub (local.get $k) (i32.const 20192)))))))
      (i64.store (local.get $k) (local.get $word))
      (local.set $k (i32.sub (local.get $k) (i32.const 8)))
      (br_if $words (i32.ge_u (local.get $k) (local.get $m)))))

  ;; Advances a CRC64NVME register over n bytes at p.
  (func (export "crc64nvme") (param $crc i64) (param $p i32) (param $n i32) (result i64)
    (local $end i32) (local $a i64)
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    (block $blocks_done
      (br_if $blocks_done (i32.lt_u (local.get $n) (i32.const 8)))
      (local.set $n (i32.sub (local.get $end) (i32.const 8)))
      (loop $blocks
        (local.set $a (i64.xor (i64.load (local.get $p)) (local.get $crc)))
        (local.set $crc
          (i64.xor
            (i64.xor
              (i64.xor (i64.load offset=30720 (i32.shl (i32.and (i32.wrap_i64 (local.get $a)) (i32.const 255)) (i32.const 3)))
                       (i64.load offset=28672 (i32.and (i32.wrap_i64 (i64.shr_u (local.get $a) (i64.const 5))) (i32.const 2040))))
              (i64.xor (i64.load offset=26624 (i32.and (i32.wrap_i64 (i64.shr_u (local.get $a) (i64.const 13))) (i32.const 2040)))
                       (i64.load offset=24576 (i32.and (i32.wrap_i64 (i64.shr_u (local.get $a) (i64.const 21))) (i32.const 2040)))))
            (i64.xor
              (i64.xor (i64.load offset=22528 (i32.and (i32.wrap_i64 (i64.shr_u (local.get $a) (i64.const 29))) (i32.const 2040)))
                       (i64.load offset=20480 (i32.and (i32.wrap_i64 (i64.shr_u (local.get $a) (i64.const 37))) (i32.const 2040))))
              (i64.xor (i64.load offset=18432 (i32.and (i32.wrap_i64 (i64.shr_u (local.get $a) (i64.const 45))) (i32.const 2040)))
                       (i64.load offset=16384 (i32.wrap_i64 (i64.shl (i64.shr_u (local.get $a) (i64.const 56)) (i64.const 3))))))))
        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        (br_if $blocks (i32.le_u (local.get $p) (local.get $n)))))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $crc
          (i64.xor (i64.shr_u (local.get $crc) (i64.const 8))
                   (i64.load offset=16384
                     (i32.shl (i32.and (i32.xor (i32.wrap_i64 (local.get $crc)) (i32.load8_u (local.get $p))) (i32.const 255)) (i32.const 3)))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $tail)))
    (local.get $crc))
)
