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
# CMAKE_CROSSCOMPILING_EMULATOR, so no binfmt registration is needed
# (debian-multiarch.cmake has the common part). The armhf libraries the
# programs load come from the multiarch packages (/usr/lib/arm-linux-gnueabihf),
# found through the loader cache libc6:armhf sets up.
set(RECOVERYD_CROSS_TRIPLET arm-linux-gnueabihf)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(RECOVERYD_CROSS_QEMU qemu-arm)
include(${CMAKE_CURRENT_LIST_DIR}/debian-multiarch.cmake)
