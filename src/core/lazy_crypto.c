/*
** libcrypto on first use (src/core/lazy.h): the SHA-1 checksums of .spy
** files and the HMAC of the worker protocol.
*/
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/lazy.h"

#define SPY_LAZY_LIB spy_lazy_crypto

#define FUNCS(F, V) \
  F(int, EVP_DigestFinal_ex, (EVP_MD_CTX *ctx, unsigned char *md, unsigned int *s), (ctx, md, s), 0) \
  F(int, EVP_DigestInit_ex, (EVP_MD_CTX *ctx, const EVP_MD *type, ENGINE *impl), (ctx, type, impl), 0) \
  F(int, EVP_DigestUpdate, (EVP_MD_CTX *ctx, const void *d, size_t cnt), (ctx, d, cnt), 0) \
  V(EVP_MD_CTX_free, (EVP_MD_CTX *ctx), (ctx), (void)0) \
  F(EVP_MD_CTX *, EVP_MD_CTX_new, (void), (), NULL) \
  F(const EVP_MD *, EVP_sha1, (void), (), NULL) \
  F(const EVP_MD *, EVP_sha256, (void), (), NULL) \
  F(unsigned char *, HMAC, (const EVP_MD *evp_md, const void *key, int key_len, const unsigned char *data, size_t data_len, unsigned char *md, unsigned int *md_len), (evp_md, key, key_len, data, data_len, md, md_len), NULL) \
  F(int, CRYPTO_memcmp, (const void *in_a, const void *in_b, size_t len), (in_a, in_b, len), -1)

SPY_LAZY_DEFINE(FUNCS, SPY_SONAME_CRYPTO, "libssl3", NULL)
