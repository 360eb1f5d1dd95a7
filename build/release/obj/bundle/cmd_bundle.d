build/release/obj/bundle/cmd_bundle.o: bundle/cmd_bundle.c bundle/cmds.h \
 common/err.h
bundle/cmds.h:
common/err.h:
