/*
 * catalog_data.S - data/lists.conf, the bundled catalogue, as a
 * NUL-terminated string in .rodata (catalog_builtin_text, catalog.c).
 * The path is relative to the top of the tree, where make runs.
 */
	.section .rodata
	.global catalog_builtin_text
	.type catalog_builtin_text, @object
catalog_builtin_text:
	.incbin "data/lists.conf"
	.byte 0
	.size catalog_builtin_text, . - catalog_builtin_text
	.section .note.GNU-stack,"",@progbits
