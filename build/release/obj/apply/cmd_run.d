build/release/obj/apply/cmd_run.o: apply/cmd_run.c apply/cmds.h \
 common/err.h
apply/cmds.h:
common/err.h:
