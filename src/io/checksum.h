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

/* As spy_sha1_file, and into alt[41] the SHA-1 the same file had while HDF5 held it open for
** writing: an HDF5 file with superblock version 0 or 1 whose file consistency flags (offset
** 20) are 0 is hashed a second time with flag byte 1, as HDF5 >= 1.10 sets it while the file
** is open with write access.  Syncopy hashes its saved file while it holds it open "r+", so the
** checksum in every .info it writes is this variant (docs/internals/containers.md).  alt is ""
** when the file is not of that kind (flags not 0, other superblock, not HDF5). */
int spy_sha1_file_open_variant(const char *path, char hex[SPY_SHA1_HEXLEN + 1],
                               char alt[SPY_SHA1_HEXLEN + 1], spy_err *err);

#endif
