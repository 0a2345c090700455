# `cmake --install`: the header, both libraries, and a package config so that
# `find_package(gtest_watchdog CONFIG REQUIRED)` gives gtest_watchdog:: targets
# (docs/linking.md). A build-tree export too, for find_package on a build
# tree.
include(CMakePackageConfigHelpers)

set(GTEST_WATCHDOG_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/gtest_watchdog")

install(TARGETS gtest_watchdog gtest_watchdog_main
  EXPORT gtest_watchdog-targets
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
install(FILES "${PROJECT_SOURCE_DIR}/gtest_watchdog/gtest_watchdog.h"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/gtest_watchdog")
install(EXPORT gtest_watchdog-targets
  NAMESPACE gtest_watchdog::
  DESTINATION "${GTEST_WATCHDOG_CMAKE_DIR}")
export(EXPORT gtest_watchdog-targets
  NAMESPACE gtest_watchdog::
  FILE "${PROJECT_BINARY_DIR}/gtest_watchdog-targets.cmake")

configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/gtest_watchdog-config.cmake.in"
  "${PROJECT_BINARY_DIR}/gtest_watchdog-config.cmake"
  INSTALL_DESTINATION "${GTEST_WATCHDOG_CMAKE_DIR}")
# Semantic versioning: from 1.0 on, any later version of the same major
# version will do (SameMajorVersion). While 0.x, a minor version may break
# the API and ABI (hence the SONAME 0.1), so only the same minor version.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(GTEST_WATCHDOG_COMPATIBILITY SameMinorVersion)
else()
  set(GTEST_WATCHDOG_COMPATIBILITY SameMajorVersion)
endif()
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/gtest_watchdog-config-version.cmake"
  COMPATIBILITY ${GTEST_WATCHDOG_COMPATIBILITY})
# find_package on the build tree finds the discovery function there too.
foreach(file GtestWatchdogDiscoverTests.cmake GtestWatchdogAddTests.cmake)
  configure_file("${PROJECT_SOURCE_DIR}/cmake/${file}" "${PROJECT_BINARY_DIR}/${file}"
    COPYONLY)
endforeach()
install(FILES
  "${PROJECT_BINARY_DIR}/gtest_watchdog-config.cmake"
  "${PROJECT_BINARY_DIR}/gtest_watchdog-config-version.cmake"
  "${PROJECT_SOURCE_DIR}/cmake/GtestWatchdogDiscoverTests.cmake"
  "${PROJECT_SOURCE_DIR}/cmake/GtestWatchdogAddTests.cmake"
  DESTINATION "${GTEST_WATCHDOG_CMAKE_DIR}")

# pkg-config (docs/linking.md: gtest_watchdog.pc). A static library's own
# dependencies go into Requires, so `pkg-config --libs gtest_watchdog` is all
# a Makefile needs; a shared one links them itself (Requires.private).
# libgtest_watchdog_main comes first: its main() is only pulled in by a
# program that has none of its own. Relocatable: the prefix is found from
# the .pc file's own place.
set(GTEST_WATCHDOG_PC_DEPS
  "absl_strings absl_str_format absl_time spdlog nlohmann_json libdw libseccomp")
if(BUILD_SHARED_LIBS)
  set(GTEST_WATCHDOG_PC_REQUIRES "gtest")
  set(GTEST_WATCHDOG_PC_REQUIRES_PRIVATE "${GTEST_WATCHDOG_PC_DEPS}")
else()
  set(GTEST_WATCHDOG_PC_REQUIRES "gtest ${GTEST_WATCHDOG_PC_DEPS}")
  set(GTEST_WATCHDOG_PC_REQUIRES_PRIVATE "")
endif()
set(GTEST_WATCHDOG_PC_LIBS "")
foreach(lib IN LISTS CMAKE_DL_LIBS)
  string(APPEND GTEST_WATCHDOG_PC_LIBS " -l${lib}")
endforeach()
file(RELATIVE_PATH GTEST_WATCHDOG_PC_TO_PREFIX
  "${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig" "${CMAKE_INSTALL_PREFIX}")
string(REGEX REPLACE "/$" "" GTEST_WATCHDOG_PC_TO_PREFIX "${GTEST_WATCHDOG_PC_TO_PREFIX}")
configure_file("${PROJECT_SOURCE_DIR}/cmake/gtest_watchdog.pc.in"
  "${PROJECT_BINARY_DIR}/gtest_watchdog.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/gtest_watchdog.pc"
  DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")

# A Debian package of the install: `cpack -G DEB` in the build directory.
# Only as the top-level project: CPack belongs to whoever adds us.
if(NOT PROJECT_IS_TOP_LEVEL)
  return()
endif()
# Its dependencies are the -dev packages a consumer builds against
# (scripts/install-deps.sh installs the same ones).
set(CPACK_PACKAGE_NAME "libgtest-watchdog-dev")
set(CPACK_PACKAGE_VENDOR "gtest_watchdog")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "Per-test watchdog for GoogleTest: a report on hung tests, crashes and signals")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "gtest_watchdog maintainers <gtest-watchdog@users.noreply.github.com>")
set(CPACK_PACKAGE_INSTALL_DIRECTORY "gtest_watchdog")
set(CPACK_RESOURCE_FILE_README "${PROJECT_SOURCE_DIR}/README.md")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "libdevel")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/gtest-watchdog/gtest_watchdog")
set(CPACK_DEBIAN_PACKAGE_DEPENDS
  "libgtest-dev (>= 1.12), libabsl-dev, libspdlog-dev, nlohmann-json3-dev, libdw-dev, libseccomp-dev, pkg-config")
set(CPACK_GENERATOR "DEB")
include(CPack)
