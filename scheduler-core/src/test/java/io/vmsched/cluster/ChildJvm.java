package io.vmsched.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Starts a test's child JVM with this JVM's class path and the JVM flags the libraries need (from
 * the one place they live, {@code META-INF/vmsched/jvm.options}); stderr is discarded, stdout is the
 * test's to read. A child still alive after {@link #MAX_LIFE_SECONDS} is killed.
 */
final class ChildJvm
{
    /** The longest a test's child JVM may live. */
    static final long MAX_LIFE_SECONDS = 180;

    private ChildJvm()
    {
    }

    static Process start(final Class<?> main, final String... args) throws IOException
    {
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmFlags());
        command.add("-cp");
        command.add(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
        command.add(main.getName());
        command.addAll(Arrays.asList(args));
        final Process child = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        // a hard lifetime: a child that hangs is killed, so a test reading its output cannot hang CI
        CompletableFuture.delayedExecutor(MAX_LIFE_SECONDS, TimeUnit.SECONDS).execute(child::destroyForcibly);
        return child;
    }

    static List<String> jvmFlags() throws IOException
    {
        try (InputStream in = ChildJvm.class.getResourceAsStream("/META-INF/vmsched/jvm.options"))
        {
            if (in == null)
            {
                throw new IllegalStateException("jvm.options is not on the class path");
            }
            return Arrays.asList(new String(in.readAllBytes(), StandardCharsets.UTF_8).trim().split("\\s+"));
        }
    }
}
