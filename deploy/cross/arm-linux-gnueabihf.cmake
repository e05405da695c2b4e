# SPDX-License-Identifier: MIT
#
# Cross build for Debian armhf (arm-linux-gnueabihf) with Debian 12's
# cross toolchain and multiarch -dev packages (deploy/cross/setup.sh
# installs both):
#
#   cmake -S . -B build-armhf -G Ninja \
#         -DCMAKE_TOOLCHAIN_FILE=deploy/cross/arm-linux-gnueabihf.cmake
#
# Tests run under qemu-user: ctest starts each test program through
# CMAKE_CROSSCOMPILING_EMULATOR, so no binfmt registration is needed. The
# armhf libraries the programs load come from the multiarch packages
# (/usr/lib/arm-linux-gnueabihf), found through the loader cache
# libc6:armhf sets up.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_LIBRARY_ARCHITECTURE arm-linux-gnueabihf)

set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_AR arm-linux-gnueabihf-ar CACHE FILEPATH "")
set(CMAKE_RANLIB arm-linux-gnueabihf-ranlib CACHE FILEPATH "")
set(CMAKE_STRIP arm-linux-gnueabihf-strip CACHE FILEPATH "")

# Multiarch: the target's libraries sit in /usr/lib/<triplet> beside the
# build machine's, found through CMAKE_LIBRARY_ARCHITECTURE and pkg-config;
# no sysroot.
#
# pkg-config sees only the target's .pc files: Debian's cross wrapper
# arm-linux-gnueabihf-pkg-config sets PKG_CONFIG_LIBDIR to the multiarch
# directories (/usr/lib/arm-linux-gnueabihf/pkgconfig, /usr/share/pkgconfig).
set(PKG_CONFIG_EXECUTABLE arm-linux-gnueabihf-pkg-config CACHE FILEPATH "")

find_program(RECOVERYD_QEMU NAMES qemu-arm-static qemu-arm)
if(RECOVERYD_QEMU)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${RECOVERYD_QEMU})
endif()
