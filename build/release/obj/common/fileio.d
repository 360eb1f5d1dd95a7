build/release/obj/common/fileio.o: common/fileio.c common/fileio.h \
 common/err.h common/sysio.h
common/fileio.h:
common/err.h:
common/sysio.h:
