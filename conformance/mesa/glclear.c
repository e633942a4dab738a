/* glclear: Mesa (iris) on the device, EGL surfaceless: a GLES2 context made
 * current, an FBO cleared, glFinish, glReadPixels. Rendering is decoded and
 * skipped by the software GPU (docs/gpu.md "Mesa"), so the pixel is not the
 * clear colour; what matters is that every call returns. Not built by the
 * Makefile (it links libEGL/libGLESv2): MesaTests compiles it when present. */
#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GLES2/gl2.h>
#include <GLES2/gl2ext.h>
#include <stdio.h>
#include <string.h>
int main(void) {
	PFNEGLGETPLATFORMDISPLAYEXTPROC gpd = (void *)eglGetProcAddress("eglGetPlatformDisplayEXT");
	EGLDisplay d = gpd(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL);
	EGLint maj, min;
	if (!eglInitialize(d, &maj, &min)) { printf("init failed %x\n", eglGetError()); return 1; }
	eglBindAPI(EGL_OPENGL_ES_API);
	EGLint ca[] = { EGL_CONTEXT_CLIENT_VERSION, 2, EGL_NONE };
	EGLContext c = eglCreateContext(d, EGL_NO_CONFIG_KHR, EGL_NO_CONTEXT, ca);
	if (c == EGL_NO_CONTEXT) { printf("ctx failed %x\n", eglGetError()); return 1; }
	if (!eglMakeCurrent(d, EGL_NO_SURFACE, EGL_NO_SURFACE, c)) { printf("make current failed\n"); return 1; }
	printf("renderer: %s\nversion: %s\n", glGetString(GL_RENDERER), glGetString(GL_VERSION));
	GLuint fb, rb;
	glGenFramebuffers(1, &fb); glBindFramebuffer(GL_FRAMEBUFFER, fb);
	glGenRenderbuffers(1, &rb); glBindRenderbuffer(GL_RENDERBUFFER, rb);
	glRenderbufferStorage(GL_RENDERBUFFER, GL_RGBA8_OES, 64, 64);
	glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, rb);
	printf("fb status %x\n", glCheckFramebufferStatus(GL_FRAMEBUFFER));
	glClearColor(1.0, 0.5, 0.25, 1.0);
	glClear(GL_COLOR_BUFFER_BIT);
	glFinish();
	unsigned char px[4] = {0};
	glReadPixels(3, 3, 1, 1, GL_RGBA, GL_UNSIGNED_BYTE, px);
	printf("pixel %d %d %d %d, gl error %x\n", px[0], px[1], px[2], px[3], glGetError());
	eglTerminate(d);
	return 0;
}
