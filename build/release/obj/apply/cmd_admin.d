build/release/obj/apply/cmd_admin.o: apply/cmd_admin.c apply/cmds.h \
 common/err.h
apply/cmds.h:
common/err.h:
