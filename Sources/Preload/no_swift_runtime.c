/* The library is plain C and must not bring the Swift runtime into every
 * program it is preloaded into (each would load libswiftCore, and any abort
 * of the program would print Swift's crash report over its own message).
 *
 * SwiftPM links a dynamic library through swiftc, which always appends
 * -lswiftCore. Package.swift passes -nostartfiles (no swiftrt.o, whose
 * image constructor is the only reference to the runtime); this entry puts
 * --as-needed ahead of -lswiftCore, so the unreferenced library is not
 * recorded as NEEDED. swiftc reads the entries of every object's
 * .swift1_autolink_entries section (swift-autolink-extract) into the link
 * line just after the objects, before the runtime; C objects included.
 * StrictModeTests checks the result with readelf -d. */

/* In assembly, not a C array: a sanitizer build would instrument a global
 * and keep a reference to this section, which the link discards ("e":
 * SHF_EXCLUDE, as swiftc marks its own autolink entries). */
__asm__(".pushsection .swift1_autolink_entries,\"e\",@progbits\n"
	".asciz \"-Xlinker\"\n"
	".asciz \"--as-needed\"\n"
	".popsection\n");
