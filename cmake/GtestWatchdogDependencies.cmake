# Our dependencies. A project that adds us with add_subdirectory or
# FetchContent may already supply some of them as targets (GoogleTest built
# from source with FetchContent, Abseil with add_subdirectory as its
# quickstart says, spdlog...): those are the ones we use, and find_package
# runs only for what is not defined yet. An installed copy of another
# version is never mixed into the same program (two GoogleTests would be two
# registries of tests; Debian's abslTargets.cmake even refuses to load next
# to a source-built Abseil). Everything else comes from a Debian package;
# nothing is downloaded.
#
# Imported targets we find are made global so a project that pulls us in
# with add_subdirectory sees the same GTest::/absl:: targets we link
# (imported targets are otherwise local to the directory that found them).
set(CMAKE_FIND_PACKAGE_TARGETS_GLOBAL ON)
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)

# gtest_watchdog_check_googletest_version(): GoogleTest 1.12 or later (we
# use GTEST_FLAG_GET and 1.12's flag objects). find_package checks that for
# an installed GoogleTest; one the parent built from source has no package
# version, but its CMakeLists set GOOGLETEST_VERSION in its directory, which
# we read from there. (init.cc also refuses an older gtest.h with #error,
# whatever the parent supplied.)
function(gtest_watchdog_check_googletest_version)
  set(version "")
  get_target_property(target GTest::gtest ALIASED_TARGET)
  if(NOT target)
    set(target GTest::gtest)
  endif()
  get_target_property(imported ${target} IMPORTED)
  if(NOT imported)
    get_target_property(dir ${target} SOURCE_DIR)
    get_directory_property(version DIRECTORY "${dir}" DEFINITION GOOGLETEST_VERSION)
  elseif(DEFINED GTest_VERSION)
    set(version "${GTest_VERSION}")
  endif()
  if(version AND version VERSION_LESS 1.12)
    message(FATAL_ERROR "gtest_watchdog needs GoogleTest 1.12 or later; the "
      "GTest::gtest target your project defines is GoogleTest ${version}")
  endif()
  if(version)
    message(STATUS "gtest_watchdog: using your project's GoogleTest ${version} (GTest::gtest)")
  else()
    message(STATUS "gtest_watchdog: using your project's GTest::gtest (version unknown: "
      "checked when compiling)")
  endif()
endfunction()

if(TARGET GTest::gtest)
  gtest_watchdog_check_googletest_version()
elseif(TARGET gtest)
  # GoogleTest's own CMake defines GTest::gtest as an alias of gtest since
  # 1.11: a gtest target without it is older than we support, and
  # find_package would bring a second, installed GoogleTest beside it.
  message(FATAL_ERROR "gtest_watchdog needs GoogleTest 1.12 or later: your project "
    "defines a 'gtest' target but no GTest::gtest (GoogleTest before 1.11?)")
else()
  find_package(GTest 1.12 CONFIG REQUIRED)
endif()

# Abseil: a parent's add_subdirectory(abseil-cpp) defines absl::* aliases.
set(_gtest_watchdog_absl absl::strings absl::str_format absl::time)
set(_gtest_watchdog_absl_missing "")
set(_gtest_watchdog_absl_present "")
foreach(t IN LISTS _gtest_watchdog_absl)
  if(TARGET ${t})
    list(APPEND _gtest_watchdog_absl_present ${t})
  else()
    list(APPEND _gtest_watchdog_absl_missing ${t})
  endif()
endforeach()
if(NOT _gtest_watchdog_absl_present AND NOT TARGET absl::base)
  find_package(absl CONFIG REQUIRED)
elseif(_gtest_watchdog_absl_missing)
  message(FATAL_ERROR "gtest_watchdog: your project defines Abseil targets but not "
    "${_gtest_watchdog_absl_missing}, which gtest_watchdog links; an installed Abseil "
    "cannot be added beside yours")
endif()

# spdlog (and its fmt). Debian's spdlog is built against Debian's fmt: with
# the parent's own fmt built from source it would mix two fmts.
if(NOT TARGET spdlog::spdlog)
  if(TARGET fmt::fmt)
    get_target_property(_gtest_watchdog_fmt fmt::fmt ALIASED_TARGET)
    if(_gtest_watchdog_fmt)
      get_target_property(_gtest_watchdog_fmt_imported ${_gtest_watchdog_fmt} IMPORTED)
      if(NOT _gtest_watchdog_fmt_imported)
        message(FATAL_ERROR "gtest_watchdog: your project builds fmt (fmt::fmt) but "
          "supplies no spdlog::spdlog; an installed spdlog would bring its own fmt. "
          "Add spdlog too (with SPDLOG_FMT_EXTERNAL=ON to use your fmt) before "
          "gtest_watchdog")
      endif()
    endif()
  endif()
  find_package(spdlog CONFIG REQUIRED)
endif()

# toml++: header-only in config/config_file.cc (non-throwing, so that
# -fno-exceptions works); we take only its include directories from the
# target, never Debian's libtomlplusplus.so.
if(NOT TARGET tomlplusplus::tomlplusplus)
  find_package(tomlplusplus CONFIG REQUIRED)
endif()
# The JSON report (--gtest_watchdog_report), written by the report helper.
if(NOT TARGET nlohmann_json::nlohmann_json)
  find_package(nlohmann_json 3 CONFIG REQUIRED)
endif()
find_package(PkgConfig REQUIRED)
# elfutils' libdw symbolizes in the report helper process (file:line, inlined frames).
if(NOT TARGET PkgConfig::LIBDW)
  pkg_check_modules(LIBDW REQUIRED IMPORTED_TARGET GLOBAL libdw)
endif()
# libseccomp names system calls (a thread's blocking call, in the report
# helper): the kernel's own table for every architecture, not a copy of ours.
if(NOT TARGET PkgConfig::LIBSECCOMP)
  pkg_check_modules(LIBSECCOMP REQUIRED IMPORTED_TARGET GLOBAL libseccomp)
endif()
