/*
** File checksums of .spy containers: SHA-1 of the whole HDF5 file, read in
** 64 KiB blocks, as Syncopy's hash_file (checksum_algorithm "openssl_sha1").
** Uses OpenSSL's libcrypto.
*/
#ifndef SPY_CHECKSUM_H
#define SPY_CHECKSUM_H

#include "core/err.h"

#define SPY_CHECKSUM_ALGORITHM "openssl_sha1"
#define SPY_SHA1_HEXLEN 40

/* Lower-case hex SHA-1 of the file at path into hex[41].  Polls the
** interrupt flag between blocks (SPY_EINTR). */
int spy_sha1_file(const char *path, char hex[SPY_SHA1_HEXLEN + 1], spy_err *err);

#endif
