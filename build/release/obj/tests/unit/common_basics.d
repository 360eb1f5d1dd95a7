build/release/obj/tests/unit/common_basics.o: tests/unit/common_basics.c \
 tests/unit/check.h common/err.h common/fileio.h common/err.h \
 common/ini.h common/timefmt.h
tests/unit/check.h:
common/err.h:
common/fileio.h:
common/err.h:
common/ini.h:
common/timefmt.h:
