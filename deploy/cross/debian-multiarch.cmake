# SPDX-License-Identifier: MIT
#
# The common part of the toolchain files in this folder, included by each
# after it sets RECOVERYD_CROSS_TRIPLET (aarch64-linux-gnu),
# CMAKE_SYSTEM_PROCESSOR and RECOVERYD_CROSS_QEMU (qemu-aarch64).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_LIBRARY_ARCHITECTURE ${RECOVERYD_CROSS_TRIPLET})

set(CMAKE_C_COMPILER ${RECOVERYD_CROSS_TRIPLET}-gcc)
set(CMAKE_AR ${RECOVERYD_CROSS_TRIPLET}-ar CACHE FILEPATH "")
set(CMAKE_RANLIB ${RECOVERYD_CROSS_TRIPLET}-ranlib CACHE FILEPATH "")
set(CMAKE_STRIP ${RECOVERYD_CROSS_TRIPLET}-strip CACHE FILEPATH "")

# Multiarch: the target's libraries sit in /usr/lib/TRIPLET beside the
# build machine's, found through CMAKE_LIBRARY_ARCHITECTURE and pkg-config;
# no sysroot.
#
# pkg-config sees only the target's .pc files: Debian's cross wrapper
# TRIPLET-pkg-config sets PKG_CONFIG_LIBDIR to the multiarch directories
# (/usr/lib/TRIPLET/pkgconfig, /usr/share/pkgconfig).
set(PKG_CONFIG_EXECUTABLE ${RECOVERYD_CROSS_TRIPLET}-pkg-config
    CACHE FILEPATH "")

# ctest starts each test program through the emulator (no binfmt needed).
find_program(RECOVERYD_QEMU NAMES ${RECOVERYD_CROSS_QEMU}-static
             ${RECOVERYD_CROSS_QEMU})
if(RECOVERYD_QEMU)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${RECOVERYD_QEMU})
endif()
