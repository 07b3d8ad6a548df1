#!/bin/sh
# Builds one libFuzzer target with clang (the project itself builds with
# gcc) and runs it for a bounded time on the checked-in seed corpus.
#   run.sh <source dir> <build dir> <target> <seconds>
# New inputs go to <build dir>/fuzz/corpus-<target>, never into the tree;
# a crash leaves its input as <build dir>/fuzz/crash-* and fails the test.
set -eu
src=$1
out=$2/fuzz
target=$3
secs=$4
mkdir -p "$out/corpus-$target"
engine="src/io/info.c src/io/container.c src/io/checksum.c src/io/h5.c src/io/metadata.c
        src/data/data.c src/data/dataclass.c src/data/extra.c
        src/core/err.c src/core/log.c src/core/settings.c src/core/array.c src/core/interrupt.c
        src/core/pyfmt.c src/core/strbuf.c src/core/sizeset.c src/core/array_fmt.c
        src/core/lazy.c src/core/lazy_hdf5.c src/core/lazy_crypto.c"
libs=""
case $target in
  fuzz_formats)  # the format parsers (edflib is linked, not fuzzed)
    engine="$engine src/io/formats/npy.c src/io/formats/eeg.c src/io/formats/tdt.c src/io/formats/common.c src/core/progress.c"
    libs="-l:libedf.a" ;;
  fuzz_nwb)  # the NWB units / TTL readers
    engine="$engine src/io/formats/nwb.c src/io/formats/nwb_util.c src/io/formats/nwb_discrete.c src/io/formats/common.c src/data/discrete.c src/core/progress.c" ;;
esac
files=""
for f in $engine; do files="$files $src/$f"; done
# HDF5 and libcrypto are opened on first use (src/core/lazy.h), by soname
soname() { # pkg-config package, library name
  dir=$(pkg-config --libs-only-L "$1" | sed -n 's/^ *-L\([^ ]*\).*/\1/p')
  objdump -p "${dir:-$(pkg-config --variable=libdir "$1")}/lib$2.so" | awk '/SONAME/ {print $2}'
}
sonames="-DSPY_SONAME_HDF5=\"$(soname hdf5 hdf5)\" -DSPY_SONAME_CRYPTO=\"$(soname libcrypto crypto)\""
# shellcheck disable=SC2086
clang -g -O1 -std=c11 -D_GNU_SOURCE -DH5_USE_110_API -DSPY_VERSION='"fuzz"' $sonames \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$src/src" $(pkg-config --cflags hdf5 libcjson) \
  "$src/tests/fuzz/$target.c" $files \
  $(pkg-config --libs hdf5 libcjson libcrypto fftw3 fftw3f) $libs -lm -lpthread -ldl \
  -o "$out/$target"
cd "$out"
# libhdf5 asks for absurd sizes on damaged files and copes with NULL, as it
# gets from the real malloc; ASan's default would abort instead.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}allocator_may_return_null=1"
# Its error paths also leak on damaged files; our handles are checked by the
# harness (no HDF5 object left open), our own leaks still fail the run.
export LSAN_OPTIONS="suppressions=$src/tests/fuzz/lsan.supp"
# fuzz_h5 announces shapes of terabytes: any allocation they could cause is a
# failure, so single allocations are limited far below the RSS limit.
extra=""
[ "$target" = fuzz_h5 ] && extra="-malloc_limit_mb=256"
# shellcheck disable=SC2086
exec "./$target" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 $extra \
  "corpus-$target" "$src/tests/fuzz/corpus/${target#fuzz_}"
