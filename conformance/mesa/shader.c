/* shader: a shader-db-style run of Mesa's Intel compiler on the device. EGL
 * surfaceless, a GLES 3 context on iris; a vertex and a fragment shader (a
 * loop, a texture, arithmetic: enough to give the backend real work) are
 * compiled and linked, a triangle is drawn into an FBO (compiling the
 * program's variant for that state) and glFinish returns. Run it with
 * INTEL_DEBUG=vs,fs to see the native code iris compiled for TGL. The draw
 * itself is decoded and skipped by the software GPU (docs/gpu.md "Mesa").
 * Not built by the Makefile (it links libEGL/libGLESv2): MesaTests compiles
 * it when present. */
#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GLES3/gl3.h>
#include <stdio.h>

static const char *vs_src =
	"#version 300 es\n"
	"in vec4 pos;\n"
	"uniform mat4 mvp;\n"
	"out vec2 uv;\n"
	"void main() { uv = pos.xy * 0.5 + 0.5; gl_Position = mvp * pos; }\n";

static const char *fs_src =
	"#version 300 es\n"
	"precision highp float;\n"
	"in vec2 uv;\n"
	"uniform sampler2D tex;\n"
	"uniform int taps;\n"
	"out vec4 colour;\n"
	"void main() {\n"
	"  vec4 sum = vec4(0.0);\n"
	"  for (int i = 0; i < taps; i++)\n"
	"    sum += texture(tex, uv + vec2(float(i) * 0.01, 0.0)) * (1.0 / float(i + 1));\n"
	"  colour = vec4(sqrt(sum.rgb), 1.0) * smoothstep(0.0, 1.0, uv.x);\n"
	"}\n";

static GLuint compile(GLenum type, const char *src, const char *name)
{
	GLuint s = glCreateShader(type);
	glShaderSource(s, 1, &src, NULL);
	glCompileShader(s);
	GLint ok = 0;
	glGetShaderiv(s, GL_COMPILE_STATUS, &ok);
	char log[1024] = "";
	glGetShaderInfoLog(s, sizeof log, NULL, log);
	printf("%s shader compiled: %s%s\n", name, ok ? "yes" : "no ", log);
	return ok ? s : 0;
}

int main(void)
{
	PFNEGLGETPLATFORMDISPLAYEXTPROC gpd = (void *)eglGetProcAddress("eglGetPlatformDisplayEXT");
	EGLDisplay d = gpd(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL);
	EGLint maj, min;
	if (!eglInitialize(d, &maj, &min)) { printf("init failed %x\n", eglGetError()); return 1; }
	eglBindAPI(EGL_OPENGL_ES_API);
	EGLint ca[] = { EGL_CONTEXT_CLIENT_VERSION, 3, EGL_NONE };
	EGLContext c = eglCreateContext(d, EGL_NO_CONFIG_KHR, EGL_NO_CONTEXT, ca);
	if (c == EGL_NO_CONTEXT) { printf("ctx failed %x\n", eglGetError()); return 1; }
	if (!eglMakeCurrent(d, EGL_NO_SURFACE, EGL_NO_SURFACE, c)) { printf("make current failed\n"); return 1; }
	printf("renderer: %s\n", glGetString(GL_RENDERER));

	GLuint vs = compile(GL_VERTEX_SHADER, vs_src, "vertex");
	GLuint fs = compile(GL_FRAGMENT_SHADER, fs_src, "fragment");
	if (!vs || !fs)
		return 1;
	GLuint prog = glCreateProgram();
	glAttachShader(prog, vs);
	glAttachShader(prog, fs);
	glBindAttribLocation(prog, 0, "pos");
	glLinkProgram(prog);
	GLint linked = 0;
	glGetProgramiv(prog, GL_LINK_STATUS, &linked);
	printf("program linked: %s\n", linked ? "yes" : "no");
	if (!linked)
		return 1;

	GLuint fb, rb, tex;
	glGenFramebuffers(1, &fb);
	glBindFramebuffer(GL_FRAMEBUFFER, fb);
	glGenRenderbuffers(1, &rb);
	glBindRenderbuffer(GL_RENDERBUFFER, rb);
	glRenderbufferStorage(GL_RENDERBUFFER, GL_RGBA8, 64, 64);
	glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, rb);
	unsigned char texels[16 * 16 * 4];
	for (unsigned i = 0; i < sizeof texels; i++)
		texels[i] = (unsigned char)(i * 7);
	glGenTextures(1, &tex);
	glBindTexture(GL_TEXTURE_2D, tex);
	glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, 16, 16, 0, GL_RGBA, GL_UNSIGNED_BYTE, texels);
	glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);

	static const float tri[] = { -1, -1, 0, 1, 3, -1, 0, 1, -1, 3, 0, 1 };
	static const float mvp[16] = { 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1 };
	glViewport(0, 0, 64, 64);
	glUseProgram(prog);
	glUniformMatrix4fv(glGetUniformLocation(prog, "mvp"), 1, GL_FALSE, mvp);
	glUniform1i(glGetUniformLocation(prog, "tex"), 0);
	glUniform1i(glGetUniformLocation(prog, "taps"), 8);
	glVertexAttribPointer(0, 4, GL_FLOAT, GL_FALSE, 0, tri);
	glEnableVertexAttribArray(0);
	glDrawArrays(GL_TRIANGLES, 0, 3);
	glFinish();
	printf("drawn, gl error %x\n", glGetError());
	eglTerminate(d);
	return 0;
}
