build/release/obj/common/ini.o: common/ini.c common/ini.h common/err.h \
 common/fileio.h
common/ini.h:
common/err.h:
common/fileio.h:
