// Half-precision and bfloat16 conversions, portable (no F16C needed), bit exact with IEEE.
#include "ck_internal.h"
#include <string.h>

float ck_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exponent = (h >> 10) & 0x1f;
    uint32_t mantissa = h & 0x3ff;
    uint32_t bits;
    if (exponent == 0x1f) {
        bits = sign | 0x7f800000u | (mantissa << 13);  // inf / NaN
    } else if (exponent != 0) {
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    } else if (mantissa == 0) {
        bits = sign;  // signed zero
    } else {
        // Subnormal half: normalise the mantissa into a float exponent.
        int shift = 0;
        while ((mantissa & 0x400) == 0) { mantissa <<= 1; shift++; }
        mantissa &= 0x3ff;
        bits = sign | ((uint32_t)(113 - shift) << 23) | (mantissa << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t ck_f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    uint32_t abs = x & 0x7fffffffu;
    if (abs >= 0x7f800000u) {  // inf or NaN (keep NaN a NaN)
        return sign | 0x7c00 | (abs > 0x7f800000u ? 0x200 : 0);
    }
    if (abs >= 0x477ff000u) return sign | 0x7c00;  // rounds past the largest half: inf
    if (abs < 0x38800000u) {
        // Result is subnormal (or zero): shift the implicit-one mantissa, round to nearest even.
        if (abs < 0x33000000u) return sign;  // below half the smallest subnormal
        uint32_t exponent = abs >> 23;
        uint32_t mantissa = (abs & 0x7fffff) | 0x800000;
        int shift = 126 - (int)exponent;  // 14 + (127 - 1 - exponent) ... yields 14..24
        uint32_t value = mantissa >> shift;
        uint32_t rest = mantissa & ((1u << shift) - 1);
        uint32_t halfway = 1u << (shift - 1);
        if (rest > halfway || (rest == halfway && (value & 1))) value++;
        return sign | (uint16_t)value;
    }
    // Normal: rebias the exponent, round the dropped 13 bits to nearest even.
    uint32_t value = ((abs >> 13) - (112u << 10));
    uint32_t rest = abs & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (value & 1))) value++;
    return sign | (uint16_t)value;
}

float ck_bf16_to_f32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t ck_f32_to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40);  // quiet NaN
    x += 0x7fff + ((x >> 16) & 1);  // round to nearest even
    return (uint16_t)(x >> 16);
}
