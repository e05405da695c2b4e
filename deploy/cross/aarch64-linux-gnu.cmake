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
# CMAKE_CROSSCOMPILING_EMULATOR, so no binfmt registration is needed
# (debian-multiarch.cmake has the common part). The arm64 libraries the
# programs load come from the multiarch packages (/usr/lib/aarch64-linux-gnu),
# found through the loader cache libc6:arm64 sets up.
set(RECOVERYD_CROSS_TRIPLET aarch64-linux-gnu)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(RECOVERYD_CROSS_QEMU qemu-aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/debian-multiarch.cmake)
