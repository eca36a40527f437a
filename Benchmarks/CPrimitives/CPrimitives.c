#include "CPrimitives.h"

#include <openssl/evp.h>
#include <sodium.h>
#include <string.h>
#include <zstd.h>

int cprim_init(void) { return sodium_init(); }

static uint64_t digest_word(const uint8_t *d) {
    uint64_t w;
    memcpy(&w, d, 8);
    return w;
}

void cprim_gear_table(uint64_t seed, uint64_t table[256]) {
    uint64_t s = seed;
    for (int i = 0; i < 256; i++) {
        s += 0x9E3779B97F4A7C15ULL;
        uint64_t z = s;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        table[i] = z ^ (z >> 31);
    }
}

// Cut position in p[0..<limit], as Coffer's Chunker.scan.
static size_t gear_scan(const uint64_t *gear, const uint8_t *p, size_t limit, size_t min, uint64_t mask) {
    if (limit <= min) return limit;
    uint64_t fp = 0;
    size_t i = min > 64 ? min - 64 : 0;
    for (; i < min; i++) fp = (fp << 1) + gear[p[i]];
    for (; i < limit; i++) {
        fp = (fp << 1) + gear[p[i]];
        if ((fp & mask) == 0) return i + 1;
    }
    return limit;
}

size_t cprim_gear_chunk(const uint64_t table[256], const uint8_t *data, size_t len, size_t unit,
                        size_t min, size_t avg, size_t max, uint64_t *checksum) {
    uint64_t mask = ~(UINT64_MAX >> (uint64_t)__builtin_ctzll(avg));
    uint64_t sum = 0;
    size_t chunks = 0;
    for (size_t off = 0; off < len; off += unit) {
        size_t start = 0;
        while (start < unit) {
            size_t n = unit - start;
            size_t c = gear_scan(table, data + off + start, n < max ? n : max, min, mask);
            sum = sum * 31 + c;
            chunks++;
            start += c;
        }
    }
    *checksum = sum;
    return chunks;
}

uint64_t cprim_blake2b_keyed(const uint8_t *data, size_t len, size_t unit, const uint8_t key[32]) {
    uint8_t out[32];
    uint64_t sum = 0;
    for (size_t off = 0; off < len; off += unit) {
        crypto_generichash(out, sizeof out, data + off, unit, key, 32);
        sum ^= digest_word(out);
    }
    return sum;
}

void cprim_aead_seal(const uint8_t *data, size_t len, size_t unit, const uint8_t *ad, size_t adlen,
                     const uint8_t key[32], uint8_t *out, size_t out_stride) {
    const size_t npub = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
    for (size_t off = 0, k = 0; off < len; off += unit, k++) {
        uint8_t *env = out + k * out_stride;
        unsigned long long clen = 0;
        randombytes_buf(env, npub);
        crypto_aead_xchacha20poly1305_ietf_encrypt(env + npub, &clen, data + off, unit, ad, adlen, NULL, env, key);
    }
}

size_t cprim_aead_open(const uint8_t *envelopes, size_t count, size_t unit, const uint8_t *ad, size_t adlen,
                       const uint8_t key[32], uint8_t *out, size_t out_stride) {
    const size_t npub = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
    const size_t stride = unit + npub + crypto_aead_xchacha20poly1305_ietf_ABYTES;
    size_t failed = 0;
    for (size_t k = 0; k < count; k++) {
        const uint8_t *env = envelopes + k * stride;
        unsigned long long mlen = 0;
        if (crypto_aead_xchacha20poly1305_ietf_decrypt(out + k * out_stride, &mlen, NULL, env + npub, stride - npub, ad, adlen, env, key) != 0)
            failed++;
    }
    return failed;
}

size_t cprim_zstd_bound(size_t n) { return ZSTD_compressBound(n); }

size_t cprim_zstd_compress(const uint8_t *data, size_t len, size_t unit, int level, uint8_t *out, size_t out_stride, size_t *sizes) {
    ZSTD_CCtx *ctx = ZSTD_createCCtx();
    size_t total = 0;
    for (size_t off = 0, k = 0; off < len; off += unit, k++) {
        // Only output strictly smaller than the input is kept (Coffer's Zstd.compress).
        size_t n = ZSTD_compressCCtx(ctx, out + k * out_stride, unit - 1, data + off, unit, level);
        sizes[k] = ZSTD_isError(n) ? 0 : n;
        total += sizes[k] ? sizes[k] : unit;
    }
    ZSTD_freeCCtx(ctx);
    return total;
}

size_t cprim_zstd_decompress(const uint8_t *in, size_t stride, const size_t *sizes, size_t count, size_t unit,
                             uint8_t *out, size_t out_stride) {
    ZSTD_DCtx *ctx = ZSTD_createDCtx();
    size_t failed = 0;
    for (size_t k = 0; k < count; k++) {
        if (sizes[k] == 0) continue;
        size_t n = ZSTD_decompressDCtx(ctx, out + k * out_stride, unit, in + k * stride, sizes[k]);
        if (ZSTD_isError(n) || n != unit) failed++;
    }
    ZSTD_freeDCtx(ctx);
    return failed;
}

void *cprim_zstd_dctx_create(void) { return ZSTD_createDCtx(); }

void cprim_zstd_dctx_free(void *dctx) { ZSTD_freeDCtx((ZSTD_DCtx *)dctx); }

size_t cprim_zstd_decompress_one(void *dctx, void *dst, size_t capacity, const void *src, size_t n) {
    size_t r = ZSTD_decompressDCtx((ZSTD_DCtx *)dctx, dst, capacity, src, n);
    return ZSTD_isError(r) ? SIZE_MAX : r;
}

uint64_t cprim_sha256(const uint8_t *data, size_t len, size_t unit) {
    uint8_t out[32];
    unsigned int outlen = 0;
    uint64_t sum = 0;
    for (size_t off = 0; off < len; off += unit) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
        EVP_DigestUpdate(ctx, data + off, unit);
        EVP_DigestFinal_ex(ctx, out, &outlen);
        EVP_MD_CTX_free(ctx);
        sum ^= digest_word(out);
    }
    return sum;
}
