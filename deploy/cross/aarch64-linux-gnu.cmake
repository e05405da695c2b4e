# SPDX-License-Identifier: MIT
#
# Cross build for Debian arm64 (aarch64-linux-gnu) with Debian 12's
# cross toolchain and multiarch -dev packages (deploy/cross/setup.sh
# installs both):
#
#   cmake -S . -B build-arm64 -G Ninja \
#         -DCMAKE_TOOLCHAIN_FILE=deploy/cross/aarch64-linux-gnu.cmake
#
# Tests run under qemu-user: ctest starts each test program through
# CMAKE_CROSSCOMPILING_EMULATOR, so no binfmt registration is needed. The
# arm64 libraries the programs load come from the multiarch packages
# (/usr/lib/aarch64-linux-gnu), found through the loader cache
# libc6:arm64 sets up.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_AR aarch64-linux-gnu-ar CACHE FILEPATH "")
set(CMAKE_RANLIB aarch64-linux-gnu-ranlib CACHE FILEPATH "")
set(CMAKE_STRIP aarch64-linux-gnu-strip CACHE FILEPATH "")

# Multiarch: the target's libraries sit in /usr/lib/<triplet> beside the
# build machine's, found through CMAKE_LIBRARY_ARCHITECTURE and pkg-config;
# no sysroot.
#
# pkg-config sees only the target's .pc files: Debian's cross wrapper
# aarch64-linux-gnu-pkg-config sets PKG_CONFIG_LIBDIR to the multiarch
# directories (/usr/lib/aarch64-linux-gnu/pkgconfig, /usr/share/pkgconfig).
set(PKG_CONFIG_EXECUTABLE aarch64-linux-gnu-pkg-config CACHE FILEPATH "")

find_program(RECOVERYD_QEMU NAMES qemu-aarch64-static qemu-aarch64)
if(RECOVERYD_QEMU)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${RECOVERYD_QEMU})
endif()
