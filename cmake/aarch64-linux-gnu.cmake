# SPDX-License-Identifier: BSD-2-Clause
# Cross build for aarch64 Linux with Debian's gcc-aarch64-linux-gnu and the
# arm64 multiarch -dev packages (libfdt-dev:arm64, liburing-dev:arm64).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_LIBRARY_PATH /usr/lib/aarch64-linux-gnu)
# Multiarch headers such as libfdt.h live in /usr/include, shared by all
# architectures. Search it only after the cross sysroot, so libc headers
# always come from the aarch64 sysroot.
set(CMAKE_C_FLAGS_INIT "-idirafter /usr/include")
