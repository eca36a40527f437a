// The primitives Coffer uses, called from C in a loop: the baseline for `coffer-bench primitives`,
// which runs the same calls through Coffer's Swift wrappers and prints both. Benchmark-only: no
// Coffer module depends on this target.
//
// Every function walks `len` bytes of `data` in units of `unit` bytes (`len` a multiple of `unit`)
// and makes, per unit, the call Coffer makes per chunk (or per file for SHA-256 and the chunker).
// The returned checksum lets the caller check that Swift and C computed the same thing.
#ifndef CPRIMITIVES_H
#define CPRIMITIVES_H

#include <stddef.h>
#include <stdint.h>

/// Initialises libsodium (sodium_init); returns its result (0, or 1 when already initialised).
int cprim_init(void);

/// The gear table Coffer's `GearTable(seed:)` builds: 256 words of SplitMix64 from `seed`.
void cprim_gear_table(uint64_t seed, uint64_t table[256]);

/// Coffer's chunker (keyed gear rolling hash, no normalization, `min` skip with 64 bytes of
/// priming, a cut where the top log2(avg) bits of the fingerprint are zero, forced at `max`),
/// run over each `unit` of `data` as one final input. Returns the number of chunks; `*checksum`
/// gets a hash of the chunk lengths in order.
size_t cprim_gear_chunk(const uint64_t table[256], const uint8_t *data, size_t len, size_t unit,
                        size_t min, size_t avg, size_t max, uint64_t *checksum);

/// Keyed BLAKE2b-256 (`crypto_generichash`, 32-byte key) of every unit. Returns a checksum of the
/// digests.
uint64_t cprim_blake2b_keyed(const uint8_t *data, size_t len, size_t unit, const uint8_t key[32]);

/// XChaCha20-Poly1305-IETF encryption of every unit with a fresh random nonce
/// (`randombytes_buf` + `crypto_aead_xchacha20poly1305_ietf_encrypt`) into `out`: envelope i,
/// `nonce(24) || ciphertext || tag(16)` (`unit + 40` bytes), at `out + i * out_stride`.
///
/// The functions that write output take an `out_stride`: 0 writes every result to the same slot
/// (a buffer that stays in cache, like the per-chunk buffers Coffer allocates and frees, which
/// malloc hands back), `unit + 40` or the bound keeps them all (for the untimed pass that makes
/// the next step's input).
void cprim_aead_seal(const uint8_t *data, size_t len, size_t unit, const uint8_t *ad, size_t adlen,
                     const uint8_t key[32], uint8_t *out, size_t out_stride);

/// Decrypts the envelopes `cprim_aead_seal` wrote (`count` of them, every `unit + 40` bytes,
/// plaintext `unit` bytes each) into `out + i * out_stride`. Returns the number that failed to
/// authenticate (0).
size_t cprim_aead_open(const uint8_t *envelopes, size_t count, size_t unit, const uint8_t *ad, size_t adlen,
                       const uint8_t key[32], uint8_t *out, size_t out_stride);

/// zstd `ZSTD_compressCCtx` of every unit at `level` with one reused context, into
/// `out + i * out_stride` (`ZSTD_compressBound(unit)` bytes each), accepting only output smaller
/// than the input as Coffer does. `sizes[i]` gets the compressed size, or 0 when stored raw.
/// Returns the sum of the stored sizes (compressed, or the unit when raw).
size_t cprim_zstd_compress(const uint8_t *data, size_t len, size_t unit, int level, uint8_t *out, size_t out_stride, size_t *sizes);

/// `ZSTD_decompressDCtx` with one reused context of `count` frames (frame i at `in + i * stride`,
/// `sizes[i]` bytes, 0 = skip) into `out + i * out_stride`, `unit` bytes each. Returns the number
/// of failures (0).
size_t cprim_zstd_decompress(const uint8_t *in, size_t stride, const size_t *sizes, size_t count, size_t unit,
                             uint8_t *out, size_t out_stride);

/// Upper bound of zstd's output for `n` input bytes (`ZSTD_compressBound`).
size_t cprim_zstd_bound(size_t n);

/// One-call wrappers, for the Swift mirror of Coffer's internal `Zstd.decompress` (a context
/// pool and one `ZSTD_decompressDCtx` per chunk), which the benchmark cannot call directly.
void *cprim_zstd_dctx_create(void);
void cprim_zstd_dctx_free(void *dctx);
/// `ZSTD_decompressDCtx`; returns the decompressed size, or SIZE_MAX on error.
size_t cprim_zstd_decompress_one(void *dctx, void *dst, size_t capacity, const void *src, size_t n);

/// SHA-256 of every unit with OpenSSL's EVP interface, a new context per unit (Coffer creates a
/// hasher per file). Returns a checksum of the digests.
uint64_t cprim_sha256(const uint8_t *data, size_t len, size_t unit);

#endif
