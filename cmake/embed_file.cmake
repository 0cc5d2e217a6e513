# cmake -DIN=file -DOUT=file.cpp -DNAME=symbol -P embed_file.cmake
# Writes a C++ source defining `extern const char NAME[]` (the file's bytes,
# NUL-terminated) and `extern const unsigned long NAME_size` (without the NUL),
# so that a file (the server's chat page) is built into the binary.
file(READ "${IN}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(LENGTH "${hex}" n)
math(EXPR size "${n} / 2")
file(WRITE "${OUT}.tmp"
  "// Generated from ${IN} by cmake/embed_file.cmake: do not edit.\n"
  "extern const char ${NAME}[] = {${bytes}0};\n"
  "extern const unsigned long ${NAME}_size = ${size};\n")
file(RENAME "${OUT}.tmp" "${OUT}")
