# Every dependency comes from a Debian package; nothing is downloaded.
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)
find_package(GTest 1.12 CONFIG REQUIRED)
find_package(absl CONFIG REQUIRED)
find_package(PkgConfig REQUIRED)
# elfutils' libdw symbolizes in the report helper process (file:line, inlined frames).
pkg_check_modules(LIBDW REQUIRED IMPORTED_TARGET libdw)
