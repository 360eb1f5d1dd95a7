build/release/obj/common/sysio.o: common/sysio.c common/sysio.h
common/sysio.h:
