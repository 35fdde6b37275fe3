/*
 * xdp_obj.S - the XDP program (xdp_dns.bpf.c compiled by clang -target
 * bpf) in .rodata, for xdp.c to load from memory: rblkit_xdp_obj up to
 * rblkit_xdp_obj_end.  XDP_OBJ names the object file (the Makefile sets
 * it: it lives in the build directory); an empty file when the build had
 * no clang.
 */
	.section .rodata
	.global rblkit_xdp_obj
	.global rblkit_xdp_obj_end
	.balign 8
rblkit_xdp_obj:
	.incbin XDP_OBJ
rblkit_xdp_obj_end:
	.section .note.GNU-stack,"",@progbits
