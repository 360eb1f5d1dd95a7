build/release/obj/bundle/cmd_feed.o: bundle/cmd_feed.c bundle/cmds.h \
 common/err.h
bundle/cmds.h:
common/err.h:
