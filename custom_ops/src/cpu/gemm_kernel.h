// The packed GEMM micro-kernel, written once over the vector width: each instruction set's translation unit
// (gemm_baseline.cc, gemm_avx2.cc, gemm_avx512.cc) includes this file inside its own namespace and compiles
// it with its own -m flags, instantiating Gemm<T, W, MR, NV> for its vector width W.
//
// Vectors are GCC vector extensions (T __attribute__((vector_size(W * sizeof(T))))), so the same source gives
// xmm code at baseline x86-64 (W = 4 floats), ymm code under -mavx2 -mfma (W = 8) and zmm code under
// -mavx512f (W = 16). A width wider than the target's registers is legal too (GCC splits each operation):
// that is how the AVX-512 blocking is also built in the AVX2 unit ("avx512-on-avx2") and tested on CPUs
// without AVX-512. The units are compiled with -ffp-contract=fast so that `acc += a * b` becomes one FMA
// where the target has FMA.
//
// No std:: inline function is used here (only types and compiler builtins): the linker merges inline
// functions of the same name across translation units, and a copy compiled with -mavx512f could then be
// run on a CPU without AVX-512.
//
// Semantics (gemm.h): out (n x m, leading dimension ldo) += B (n x k) * A^T.
// Packed formats (T elements):
//   A: panels of kPanel = NV * W columns (rows of A); panel q starts at q * kPanel * k and holds, for each
//      depth p, its width of A[i][p] values (the last panel zero-padded to a multiple of W).
//   B: groups of MR rows, the last one zero-padded; group g starts at g * MR * k and holds B[MR g + r][p] at
//      p * MR + r.
// Per (panel, depth block, row group) the micro-kernel loads the panel's 1..NV vectors of A per depth step
// (held in registers, see kPin), broadcasts the group's 1..MR values of B and accumulates MR x NV vectors;
// the depth block keeps the panel block in L1 while the row groups walk it; the panel is prefetched
// kPrefetch depth steps ahead (the weights come from L3 at every time step).

template <int... Is, typename F>
__attribute__((always_inline)) inline void static_for_seq(std::integer_sequence<int, Is...>, F&& f) {
  (f(std::integral_constant<int, Is>{}), ...);
}
// Calls f(integral_constant<int, i>) for i = 0 .. N-1: loops with compile-time indices, so that the
// accumulators (an array indexed by constants only) stay in registers.
template <int N, typename F>
__attribute__((always_inline)) inline void static_for(F&& f) {
  static_for_seq(std::make_integer_sequence<int, N>{}, f);
}

// kPin: hold the A vectors in registers with an empty asm. GCC otherwise folds each A load into its FMAs
// (MR x NV memory-operand FMAs per depth step) and the load ports, not the FMA units, set the pace.
template <typename T, int W, int MR, int NV, bool kPin>
struct Gemm {
  typedef T V __attribute__((vector_size(W * sizeof(T))));
  using Index = __PTRDIFF_TYPE__;
  using Size = __SIZE_TYPE__;

  static constexpr Index kPanel = Index{NV} * W;
  // Depth per pass: a panel block of ~24 KiB stays in L1 while every row group walks it.
  static constexpr Index kDepthBlock = (Index{24} * 1024 / (kPanel * Index(sizeof(T)))) / 16 * 16 < 64
                                           ? 64
                                           : (Index{24} * 1024 / (kPanel * Index(sizeof(T)))) / 16 * 16;
  static constexpr Index kPrefetch = 16;  // depth steps ahead
  static constexpr Index kStepLines = kPanel * Index(sizeof(T)) / 64 < 1 ? 1 : kPanel * Index(sizeof(T)) / 64;
  static constexpr Index kAlign = 64 / Index(sizeof(T));

  static Index round_up(Index n, Index m) { return (n + m - 1) / m * m; }
  static Index min_(Index a, Index b) { return a < b ? a : b; }

  static Size packed_size(Index rows, Index k) {
    const Index r = round_up(rows, W > MR ? W : MR);
    return static_cast<Size>(round_up(r * k, kAlign) + kAlign);
  }

  static void pack_a(T* dst, const T* A, Index lda, Index m, Index k) {
    for (Index i0 = 0; i0 < m; i0 += kPanel) {
      const Index cols = min_(kPanel, m - i0), w = round_up(cols, W);
      T* panel = dst + i0 * k;
      for (Index p = 0; p < k; ++p) {
        T* row = panel + p * w;
        for (Index c = 0; c < cols; ++c) row[c] = A[(i0 + c) * lda + p];
        for (Index c = cols; c < w; ++c) row[c] = T(0);
      }
    }
  }

  static void pack_b(T* dst, const T* B, Index ldb, Index n, Index k) {
    for (Index r0 = 0; r0 < n; r0 += MR) {
      const Index rows = min_(MR, n - r0);
      T* group = dst + r0 * k;
      for (Index p = 0; p < k; ++p) {
        for (Index r = 0; r < rows; ++r) group[p * MR + r] = B[(r0 + r) * ldb + p];
        for (Index r = rows; r < MR; ++r) group[p * MR + r] = T(0);
      }
    }
  }

  static void run(T* out, Index ldo, const T* packed_a, const T* packed_b, Index m, Index n, Index k) {
    for (Index i0 = 0; i0 < m; i0 += kPanel) {
      const Index cols = min_(kPanel, m - i0);
      const int nv = static_cast<int>((cols + W - 1) / W);
      const T* panel = packed_a + i0 * k;
      for (Index k0 = 0; k0 < k; k0 += kDepthBlock) {
        const Index kc = min_(kDepthBlock, k - k0);
        const T* a = panel + k0 * nv * W;
        for (Index r0 = 0; r0 < n; r0 += MR) {
          const int rows = static_cast<int>(min_(MR, n - r0));
          tile_for(rows, nv)(a, packed_b + r0 * k + k0 * MR, kc, out + r0 * ldo + i0, ldo, static_cast<int>(cols));
        }
      }
    }
  }

  // Independent FMA chains on registers, `iters` times (fma_peak() in gemm_dispatch.cc times it). 12 chains
  // cover 2 FMA units x 4-5 cycles of latency on current x86 cores; returns a value so nothing is dropped.
  static T fma_loop(long iters) {
    constexpr int kChains = 12;
    V acc[kChains];
    const V zero = {};
    static_for<kChains>([&](auto c) __attribute__((always_inline)) { acc[c] = zero + T(c + 1) * T(1e-3); });
    V x = zero + T(0.999), y = zero + T(1e-4);
    asm("" : "+m"(x), "+m"(y));
    for (long i = 0; i < iters; ++i) {
      static_for<kChains>([&](auto c) __attribute__((always_inline)) { acc[c] = acc[c] * x + y; });
    }
    V s = zero;
    static_for<kChains>([&](auto c) __attribute__((always_inline)) { s += acc[c]; });
    T r = 0;
    for (int l = 0; l < W; ++l) r += s[l];
    return r;
  }
  static constexpr long kFmaFlopsPerIter = 12L * W * 2;

 private:
  using TileFn = void (*)(const T*, const T*, Index, T*, Index, int);

  __attribute__((always_inline)) static V load(const T* p) {
    V v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
  }
  __attribute__((always_inline)) static void store(T* p, V v) { __builtin_memcpy(p, &v, sizeof v); }

  // o[r][c] += sum_p b[p * MR + r] * a[p * NVU * W + c] for r < R, c < cols (cols in (W (NVU - 1), W NVU]).
  // With fewer than 8 accumulators the depth is split over two accumulator sets (even and odd p) so that the
  // FMA latency is covered.
  template <int R, int NVU>
  static void tile(const T* a, const T* b, Index kc, T* o, Index ldo, int cols) {
    constexpr Index kStep = Index{NVU} * W;
    constexpr bool kTwoChains = R * NVU < 8;
    const V zero = {};
    V x[R][NVU] = {}, y[R][NVU] = {};
    auto step = [&](V(&acc)[R][NVU], const T* ap, const T* bp) __attribute__((always_inline)) {
      V av[NVU];
      static_for<NVU>([&](auto v) __attribute__((always_inline)) {
        av[v] = load(ap + v * W);
        if constexpr (kPin) asm("" : "+v"(av[v]));
      });
      static_for<R>([&](auto r) __attribute__((always_inline)) {
        const V bv = bp[r] - zero;  // a broadcast (x - 0 is x for every x, -0 included)
        static_for<NVU>([&](auto v) __attribute__((always_inline)) { acc[r][v] += av[v] * bv; });
      });
    };
    auto prefetch = [&](Index p) __attribute__((always_inline)) {
      static_for<kStepLines>([&](auto l) __attribute__((always_inline)) {
        __builtin_prefetch(reinterpret_cast<const char*>(a + (p + kPrefetch) * kStep) + 64 * l, 0, 3);
      });
    };
    Index p = 0;
    if constexpr (kTwoChains) {
      for (; p + 2 <= kc; p += 2) {
        prefetch(p);
        step(x, a + p * kStep, b + p * MR);
        step(y, a + (p + 1) * kStep, b + (p + 1) * MR);
      }
      static_for<R>([&](auto r) __attribute__((always_inline)) {
        static_for<NVU>([&](auto v) __attribute__((always_inline)) { x[r][v] += y[r][v]; });
      });
    }
    for (; p < kc; ++p) {
      prefetch(p);
      step(x, a + p * kStep, b + p * MR);
    }

    const int full = cols == NVU * W ? NVU : NVU - 1;  // vectors stored whole
    static_for<R>([&](auto r) __attribute__((always_inline)) {
      static_for<NVU>([&](auto v) __attribute__((always_inline)) {
        T* dst = o + r * ldo + v * W;
        if (v < full) {
          store(dst, load(dst) + x[r][v]);
        } else {
          T lanes[W];  // a copy, so that the accumulators themselves never need an address
          __builtin_memcpy(lanes, &x[r][v], sizeof lanes);
          const int tail = cols - (NVU - 1) * W;  // 1 .. W-1 columns in the last vector
          for (int c = 0; c < tail; ++c) dst[c] += lanes[c];
        }
      });
    });
  }

  template <int... Rs>
  static TileFn tile_row(int rows, int nv, std::integer_sequence<int, Rs...>) {
    TileFn fn = nullptr;
    ((rows == Rs + 1
          ? (fn = nv == 1 ? &tile<Rs + 1, 1> : nv == 2 ? &tile < Rs + 1, NV < 2 ? NV : 2 > : &tile<Rs + 1, NV>)
          : fn),
     ...);
    return fn;
  }
  // The tile function for `rows` rows of B (1..MR) and `nv` vectors of A (1..NV).
  static TileFn tile_for(int rows, int nv) { return tile_row(rows, nv, std::make_integer_sequence<int, MR>{}); }
};
