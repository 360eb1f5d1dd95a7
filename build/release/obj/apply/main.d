build/release/obj/apply/main.o: apply/main.c apply/cmds.h common/err.h \
 common/version.h
apply/cmds.h:
common/err.h:
common/version.h:
