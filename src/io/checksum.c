#include "io/checksum.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/interrupt.h"
#include "core/lazy.h"

enum { BLOCK = 65536 };

static void to_hex(const unsigned char *md, unsigned mdlen, char hex[SPY_SHA1_HEXLEN + 1])
{
  static const char digits[] = "0123456789abcdef";
  for (unsigned i = 0; i < mdlen && i < SPY_SHA1_HEXLEN / 2; i++) {
    hex[2 * i] = digits[md[i] >> 4];
    hex[2 * i + 1] = digits[md[i] & 15];
  }
  hex[SPY_SHA1_HEXLEN] = '\0';
}

/* HDF5 superblock version 0/1 keeps its file consistency flags (4 bytes) at offset 20. */
enum { FLAGS_AT = 20 };
static const unsigned char hdf5_signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

static int sha1_file(const char *path, char hex[SPY_SHA1_HEXLEN + 1], char *alt, spy_err *err)
{
  unsigned char md[EVP_MAX_MD_SIZE], *buf = NULL;
  unsigned int mdlen = 0;
  int rc = SPY_OK, first = 1, use_alt = 0;
  FILE *f = fopen(path, "rb");
  if (alt) alt[0] = '\0';
  if (!f) return spy_fail(err, SPY_EIO, "Cannot read %s: %s", path, strerror(errno));
  if (spy_lazy_need(&spy_lazy_crypto, "the SHA-1 checksum", err) != SPY_OK) {
    fclose(f);
    return SPY_ERUNTIME;
  }
  EVP_MD_CTX *ctx = EVP_MD_CTX_new(), *ctx2 = alt ? EVP_MD_CTX_new() : NULL;
  buf = malloc(BLOCK);
  if (!ctx || !buf || (alt && !ctx2)) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory hashing %s", path);
    goto exit;
  }
  if (EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) != 1 ||
      (ctx2 && EVP_DigestInit_ex(ctx2, EVP_sha1(), NULL) != 1)) {
    rc = spy_fail(err, SPY_ERUNTIME, "OpenSSL cannot initialise SHA-1");
    goto exit;
  }
  size_t got;
  while ((got = fread(buf, 1, BLOCK, f)) > 0) {
    if (spy_interrupted()) {
      rc = spy_fail(err, SPY_EINTR, "interrupted while hashing %s", path);
      goto exit;
    }
    EVP_DigestUpdate(ctx, buf, got);
    if (first && ctx2 && got > FLAGS_AT + 3 && !memcmp(buf, hdf5_signature, 8) && buf[8] <= 1 &&
        !buf[FLAGS_AT] && !buf[FLAGS_AT + 1] && !buf[FLAGS_AT + 2] && !buf[FLAGS_AT + 3]) {
      use_alt = 1;
      buf[FLAGS_AT] = 1;
    }
    if (use_alt) EVP_DigestUpdate(ctx2, buf, got);
    first = 0;
  }
  if (ferror(f)) {
    rc = spy_fail(err, SPY_EIO, "Cannot read %s: %s", path, strerror(errno));
    goto exit;
  }
  EVP_DigestFinal_ex(ctx, md, &mdlen);
  to_hex(md, mdlen, hex);
  if (use_alt) {
    EVP_DigestFinal_ex(ctx2, md, &mdlen);
    to_hex(md, mdlen, alt);
  }
exit:
  free(buf);
  EVP_MD_CTX_free(ctx);
  EVP_MD_CTX_free(ctx2);
  fclose(f);
  return rc;
}

int spy_sha1_file(const char *path, char hex[SPY_SHA1_HEXLEN + 1], spy_err *err)
{
  return sha1_file(path, hex, NULL, err);
}

int spy_sha1_file_open_variant(const char *path, char hex[SPY_SHA1_HEXLEN + 1],
                               char alt[SPY_SHA1_HEXLEN + 1], spy_err *err)
{
  return sha1_file(path, hex, alt, err);
}
