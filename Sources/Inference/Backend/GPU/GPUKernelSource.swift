// The GPU kernels' one source, and the two preludes that make it CUDA or OpenCL C.
//
// Kernels are written once in a small dialect of C that both NVRTC (CUDA C++) and OpenCL C 1.2
// accept once the prelude has defined its words:
//
//   KERNEL void name(...)      an entry point           (extern "C" __global__ / __kernel)
//   GLOBAL T *p                device memory pointer    (nothing / __global)
//   SHARED T x[N];             work-group memory, declared at kernel scope (__shared__ / __local)
//   LOCAL T *p                 pointer to work-group memory in a helper's parameters
//   DEVICE T f(...)            helper function          (__device__ __forceinline__ / static inline;
//                              not `static` in CUDA, where NVRTC warns about unused static functions)
//   INFINITY                   float infinity (NVRTC has no <math.h>, so the CUDA prelude defines it)
//   SYNC()                     work-group barrier on work-group memory
//   THREAD_ID, GROUP_SIZE      thread index in the group and the group's size (x only)
//   GROUP_X, GROUP_Y, GROUPS_X work-group index and count in the grid
//   u8 i8 u16 i16 u32 i32 i64  fixed-width integers (OpenCL `char` is signed; so is i8 in CUDA)
//   AS_FLOAT(u32) AS_UINT(f)   bit casts
//   load_f16(p, i)             float16 element i of a GLOBAL const u16 * (no half type needed)
//   load_bf16(p, i)            bfloat16 element i
//   F_EXP F_SQRT F_SIN F_COS F_FABS F_FMAX F_FMIN F_ROUND (half away from zero) F_RINT (ties to even)
//   group_sum(v, scratch), group_max(v, scratch)
//                              reduction over the whole work-group; every thread gets the
//                              result; `scratch` is `SHARED float scratch[MAX_GROUP]`; all
//                              threads must call it; GROUP_SIZE a power of two, 32...MAX_GROUP.
//
// CUDA reduces with warp shuffles; OpenCL with sub-groups where the device has cl_khr_subgroups,
// else a tree in local memory (PoCL, which CI runs, has no sub-groups).
//
// Numerics: no fast-math anywhere, no FMA contraction in OpenCL (FP_CONTRACT OFF) and correctly
// rounded division (build option), so quantizing activations on the device rounds as the CPU
// backend does.

/// The flavour of C the kernel source is turned into.
enum KernelDialect: Equatable, Sendable {
    case cuda
    case opencl(subgroups: Bool)
}

enum GPUKernelSource {
    /// Largest work-group any kernel is launched with (and the size of reduction scratch).
    static let maxGroup = 256

    /// The complete program for `dialect`: prelude, then every kernel.
    static func program(_ dialect: KernelDialect) -> String {
        let prelude: String
        switch dialect {
        case .cuda: prelude = cudaPrelude
        case .opencl(let subgroups): prelude = (subgroups ? "#define STEPWISE_SUBGROUPS 1\n" : "") + openCLPrelude
        }
        return "#define MAX_GROUP \(maxGroup)\n" + prelude + commonHelpers + coreKernels + matmulKernels + convertKernels
    }

    /// Every kernel entry point, for compiling and for the NVRTC compile check.
    static var kernelNames: [String] {
        let source = coreKernels + matmulKernels + convertKernels
        var names: [String] = []
        var rest = Substring(source)
        while let range = rest.range(of: "KERNEL void ") {
            let tail = rest[range.upperBound...]
            let name = tail.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            if !name.isEmpty { names.append(String(name)) }
            rest = tail
        }
        return names
    }

    static let cudaPrelude = #"""
typedef unsigned char u8;
typedef signed char i8;
typedef unsigned short u16;
typedef short i16;
typedef unsigned int u32;
typedef int i32;
typedef long long i64;
#define KERNEL extern "C" __global__
#define GLOBAL
#define SHARED __shared__
#define LOCAL
#define DEVICE __device__ __forceinline__
#define INFINITY __int_as_float(0x7f800000)
#define SYNC() __syncthreads()
#define THREAD_ID ((int)threadIdx.x)
#define GROUP_SIZE ((int)blockDim.x)
#define GROUP_X ((int)blockIdx.x)
#define GROUP_Y ((int)blockIdx.y)
#define GROUPS_X ((int)gridDim.x)
#define AS_FLOAT(u) __uint_as_float(u)
#define AS_UINT(f) __float_as_uint(f)
#define F_EXP expf
#define F_SQRT sqrtf
#define F_SIN sinf
#define F_COS cosf
#define F_FABS fabsf
#define F_FMAX fmaxf
#define F_FMIN fminf
#define F_ROUND roundf
#define F_RINT rintf
DEVICE float load_f16(GLOBAL const u16 *p, int i) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(p[i]));
    return f;
}
DEVICE float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
DEVICE float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}
DEVICE float group_sum(float v, LOCAL float *scratch) {
    v = warp_sum(v);
    const int warps = GROUP_SIZE >> 5;
    if (warps == 1) return v;
    SYNC();  // the previous reduction's readers are done with scratch
    if ((THREAD_ID & 31) == 0) scratch[THREAD_ID >> 5] = v;
    SYNC();
    v = (THREAD_ID & 31) < warps ? scratch[THREAD_ID & 31] : 0.0f;
    return warp_sum(v);
}
DEVICE float group_max(float v, LOCAL float *scratch) {
    v = warp_max(v);
    const int warps = GROUP_SIZE >> 5;
    if (warps == 1) return v;
    SYNC();
    if ((THREAD_ID & 31) == 0) scratch[THREAD_ID >> 5] = v;
    SYNC();
    v = (THREAD_ID & 31) < warps ? scratch[THREAD_ID & 31] : -INFINITY;
    return warp_max(v);
}

"""#

    static let openCLPrelude = #"""
#pragma OPENCL FP_CONTRACT OFF
typedef uchar u8;
typedef char i8;
typedef ushort u16;
typedef short i16;
typedef uint u32;
typedef int i32;
typedef long i64;
#define KERNEL __kernel
#define GLOBAL __global
#define SHARED __local
#define LOCAL __local
#define DEVICE static inline
#define SYNC() barrier(CLK_LOCAL_MEM_FENCE)
#define THREAD_ID ((int)get_local_id(0))
#define GROUP_SIZE ((int)get_local_size(0))
#define GROUP_X ((int)get_group_id(0))
#define GROUP_Y ((int)get_group_id(1))
#define GROUPS_X ((int)get_num_groups(0))
#define AS_FLOAT(u) as_float(u)
#define AS_UINT(f) as_uint(f)
#define F_EXP exp
#define F_SQRT sqrt
#define F_SIN sin
#define F_COS cos
#define F_FABS fabs
#define F_FMAX fmax
#define F_FMIN fmin
#define F_ROUND round
#define F_RINT rint
DEVICE float load_f16(GLOBAL const u16 *p, int i) { return vload_half(i, (GLOBAL const half *)p); }
#ifdef STEPWISE_SUBGROUPS
#pragma OPENCL EXTENSION cl_khr_subgroups : enable
DEVICE float group_sum(float v, LOCAL float *scratch) {
    v = sub_group_reduce_add(v);
    const int groups = (int)get_num_sub_groups();
    if (groups == 1) return v;
    SYNC();
    if (get_sub_group_local_id() == 0) scratch[get_sub_group_id()] = v;
    SYNC();
    float total = 0.0f;
    for (int i = 0; i < groups; i++) total += scratch[i];
    return total;
}
DEVICE float group_max(float v, LOCAL float *scratch) {
    v = sub_group_reduce_max(v);
    const int groups = (int)get_num_sub_groups();
    if (groups == 1) return v;
    SYNC();
    if (get_sub_group_local_id() == 0) scratch[get_sub_group_id()] = v;
    SYNC();
    float best = -INFINITY;
    for (int i = 0; i < groups; i++) best = fmax(best, scratch[i]);
    return best;
}
#else
DEVICE float group_sum(float v, LOCAL float *scratch) {
    const int t = THREAD_ID;
    SYNC();
    scratch[t] = v;
    SYNC();
    for (int s = GROUP_SIZE >> 1; s > 0; s >>= 1) {
        if (t < s) scratch[t] += scratch[t + s];
        SYNC();
    }
    return scratch[0];
}
DEVICE float group_max(float v, LOCAL float *scratch) {
    const int t = THREAD_ID;
    SYNC();
    scratch[t] = v;
    SYNC();
    for (int s = GROUP_SIZE >> 1; s > 0; s >>= 1) {
        if (t < s) scratch[t] = fmax(scratch[t], scratch[t + s]);
        SYNC();
    }
    return scratch[0];
}
#endif

"""#

    /// Helpers both dialects share (after the prelude).
    static let commonHelpers = #"""
DEVICE float load_bf16(GLOBAL const u16 *p, int i) { return AS_FLOAT(((u32)p[i]) << 16); }
DEVICE float silu(float x) { return x / (1.0f + F_EXP(-x)); }

"""#
}
