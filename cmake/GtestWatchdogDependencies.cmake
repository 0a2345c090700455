# Every dependency comes from a Debian package; nothing is downloaded.
# Imported targets are made global so a project that pulls us in with
# add_subdirectory sees the same GTest::/absl:: targets we link (imported
# targets are otherwise local to the directory that found them).
set(CMAKE_FIND_PACKAGE_TARGETS_GLOBAL ON)
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)
find_package(GTest 1.12 CONFIG REQUIRED)
find_package(absl CONFIG REQUIRED)
find_package(spdlog CONFIG REQUIRED)
find_package(tomlplusplus CONFIG REQUIRED)
# The JSON report (--gtest_watchdog_report), written by the report helper.
find_package(nlohmann_json 3 CONFIG REQUIRED)
find_package(PkgConfig REQUIRED)
# elfutils' libdw symbolizes in the report helper process (file:line, inlined frames).
pkg_check_modules(LIBDW REQUIRED IMPORTED_TARGET GLOBAL libdw)
# libseccomp names system calls (a thread's blocking call, in the report
# helper): the kernel's own table for every architecture, not a copy of ours.
pkg_check_modules(LIBSECCOMP REQUIRED IMPORTED_TARGET GLOBAL libseccomp)
