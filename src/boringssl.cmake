# SPDX-License-Identifier: Apache-2.0
# Compile BoringSSL from source into static archives that are linked into
# libsdtls with every engine symbol hidden (see docs/design.md, "Where BoringSSL
# comes from"). Two source layouts are understood:
#   - Android's (Debian's android-platform-external-boringssl): android-sources.cmake
#   - upstream's: gen/sources.cmake
# The layout decides which engine-internal glue (the cookie hand-over) is built.

if(SDTLS_BORINGSSL_DIR STREQUAL "")
  execute_process(
    COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/packaging/fetch-boringssl.sh
    OUTPUT_VARIABLE _tree OUTPUT_STRIP_TRAILING_WHITESPACE
    RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0 OR _tree STREQUAL "")
    message(FATAL_ERROR "Could not fetch BoringSSL's source (packaging/fetch-boringssl.sh failed). "
                        "Set -DSDTLS_BORINGSSL_DIR=/path/to/boringssl to use another tree.")
  endif()
  set(SDTLS_BORINGSSL_DIR "${_tree}" CACHE PATH "BoringSSL source tree to embed" FORCE)
endif()

get_filename_component(BORINGSSL_ROOT "${SDTLS_BORINGSSL_DIR}" ABSOLUTE)
set(BORINGSSL_ROOT "${BORINGSSL_ROOT}/")

if(EXISTS "${BORINGSSL_ROOT}android-sources.cmake")
  set(SDTLS_ENGINE_LAYOUT android)
  include("${BORINGSSL_ROOT}android-sources.cmake")
  set(_engine_include "${BORINGSSL_ROOT}src/include")
  set(_engine_src "${BORINGSSL_ROOT}src")
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
    set(_asm ${crypto_sources_linux_x86_64})
  elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
    set(_asm ${crypto_sources_linux_aarch64})
  else()
    set(_asm "")
  endif()
  # Test helpers are listed with the assembly but are not part of the library.
  list(FILTER _asm EXCLUDE REGEX "/test/")
elseif(EXISTS "${BORINGSSL_ROOT}gen/sources.cmake")
  set(SDTLS_ENGINE_LAYOUT upstream)
  include("${BORINGSSL_ROOT}gen/sources.cmake")
  set(_engine_include "${BORINGSSL_ROOT}include")
  set(_engine_src "${BORINGSSL_ROOT}")
  list(TRANSFORM BCM_SOURCES PREPEND "${BORINGSSL_ROOT}")
  list(TRANSFORM CRYPTO_SOURCES PREPEND "${BORINGSSL_ROOT}")
  list(TRANSFORM SSL_SOURCES PREPEND "${BORINGSSL_ROOT}")
  list(TRANSFORM BCM_SOURCES_ASM PREPEND "${BORINGSSL_ROOT}")
  list(TRANSFORM CRYPTO_SOURCES_ASM PREPEND "${BORINGSSL_ROOT}")
  set(crypto_sources ${BCM_SOURCES} ${CRYPTO_SOURCES})
  set(ssl_sources ${SSL_SOURCES})
  set(_asm ${BCM_SOURCES_ASM} ${CRYPTO_SOURCES_ASM})
  set(CMAKE_CXX_STANDARD 17)
  # This tree's C++ refers to two symbols of the C++ runtime, which
  # src/engine/cxx_runtime.cc provides (hidden): no libstdc++ is needed.
else()
  message(FATAL_ERROR "${SDTLS_BORINGSSL_DIR} is not a BoringSSL tree "
                      "(neither android-sources.cmake nor gen/sources.cmake found)")
endif()
message(STATUS "sdtls: embedding BoringSSL from ${BORINGSSL_ROOT} (${SDTLS_ENGINE_LAYOUT} layout)")

# Which engine this is, for the artefacts to say (the Python package's
# sdtls.__engine__): the name packaging/trim-engine.py wrote into a trimmed
# tree (whose own directory has no version in its name), else the tree's
# directory name, which the fetch scripts make from the source package and
# its version.
if(EXISTS "${BORINGSSL_ROOT}SDTLS_ENGINE")
  file(STRINGS "${BORINGSSL_ROOT}SDTLS_ENGINE" SDTLS_ENGINE_NAME LIMIT_COUNT 1)
else()
  get_filename_component(SDTLS_ENGINE_NAME "${BORINGSSL_ROOT}." ABSOLUTE)
  get_filename_component(SDTLS_ENGINE_NAME "${SDTLS_ENGINE_NAME}" NAME)
endif()
set(SDTLS_ENGINE_NAME "${SDTLS_ENGINE_NAME} (${SDTLS_ENGINE_LAYOUT} layout)")

# The engine's licence texts, relative to its tree, which an artefact that
# holds its object code carries (see NOTICE): the tree's LICENSE (Android's
# layout: OpenSSL, SSLeay, ISC, and MIT for third_party/fiat; upstream's:
# Apache-2.0) and, in upstream's, third_party/fiat's own, as that directory
# is compiled in and licensed on its own. They come from the tree at build
# time and are never committed.
if(NOT EXISTS "${BORINGSSL_ROOT}LICENSE")
  message(FATAL_ERROR "${SDTLS_BORINGSSL_DIR} has no LICENSE: the artefacts could not carry the engine's licence")
endif()
set(SDTLS_ENGINE_LICENSE_FILES LICENSE)
if(EXISTS "${BORINGSSL_ROOT}third_party/fiat/LICENSE")
  list(APPEND SDTLS_ENGINE_LICENSE_FILES third_party/fiat/LICENSE)
endif()
# Copies them into DEST at configure time, with their paths in the tree (a
# changed source file configures again).
function(sdtls_copy_engine_licenses dest)
  foreach(_f IN LISTS SDTLS_ENGINE_LICENSE_FILES)
    configure_file("${BORINGSSL_ROOT}${_f}" "${dest}/${_f}" COPYONLY)
  endforeach()
endfunction()

# Warnings in the engine are the engine's business: keep our -Werror off it.
set(_engine_flags -w -fno-exceptions -fno-rtti)
add_library(sdtls_engine_crypto STATIC ${crypto_sources} ${_asm})
add_library(sdtls_engine_ssl STATIC ${ssl_sources})
foreach(t sdtls_engine_crypto sdtls_engine_ssl)
  target_include_directories(${t} PUBLIC "${_engine_include}")
  target_compile_definitions(${t} PRIVATE BORINGSSL_IMPLEMENTATION)
  target_compile_options(${t} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:${_engine_flags}> $<$<COMPILE_LANGUAGE:C>:-w>)
endforeach()
target_link_libraries(sdtls_engine_ssl PUBLIC sdtls_engine_crypto)
# The engine's private headers, for the glue in src/engine/ only.
set(SDTLS_ENGINE_PRIVATE_INCLUDE "${_engine_src}/ssl" "${_engine_src}")
