build/release/obj/bundle/main.o: bundle/main.c bundle/cmds.h common/err.h \
 common/version.h
bundle/cmds.h:
common/err.h:
common/version.h:
