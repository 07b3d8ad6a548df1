#include "io/checksum.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/interrupt.h"

enum { BLOCK = 65536 };

int spy_sha1_file(const char *path, char hex[SPY_SHA1_HEXLEN + 1], spy_err *err)
{
  static const char digits[] = "0123456789abcdef";
  unsigned char md[EVP_MAX_MD_SIZE], *buf = NULL;
  unsigned int mdlen = 0;
  int rc = SPY_OK;
  FILE *f = fopen(path, "rb");
  if (!f) return spy_fail(err, SPY_EIO, "Cannot read %s: %s", path, strerror(errno));
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  buf = malloc(BLOCK);
  if (!ctx || !buf) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory hashing %s", path);
    goto exit;
  }
  if (EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) != 1) {
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
  }
  if (ferror(f)) {
    rc = spy_fail(err, SPY_EIO, "Cannot read %s: %s", path, strerror(errno));
    goto exit;
  }
  EVP_DigestFinal_ex(ctx, md, &mdlen);
  for (unsigned i = 0; i < mdlen && i < SPY_SHA1_HEXLEN / 2; i++) {
    hex[2 * i] = digits[md[i] >> 4];
    hex[2 * i + 1] = digits[md[i] & 15];
  }
  hex[SPY_SHA1_HEXLEN] = '\0';
exit:
  free(buf);
  EVP_MD_CTX_free(ctx);
  fclose(f);
  return rc;
}
