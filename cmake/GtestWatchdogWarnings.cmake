# gtest_watchdog_strict_warnings(target): strict warnings for OUR targets only;
# never attached to an INTERFACE, so users' targets are never affected.
function(gtest_watchdog_strict_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wshadow -Wnon-virtual-dtor)
  if(GTEST_WATCHDOG_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
