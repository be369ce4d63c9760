package io.vmsched.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The benchmarks jar's entry point: JMH's own {@code Main}, with the JVM flags the libraries need
 * (the root pom's {@code vmsched.jvm.flags}, carried in a resource) appended to every forked JVM.
 * A {@code -jvmArgsAppend} given on the command line is kept and added after them.
 */
public final class BenchmarkMain
{
    private static final String OPTIONS_RESOURCE = "/META-INF/vmsched/jvm.options";

    private BenchmarkMain()
    {
    }

    /**
     * @return the JVM flags every benchmark fork needs.
     * @throws IOException if the resource cannot be read.
     */
    public static String jvmFlags() throws IOException
    {
        try (InputStream in = BenchmarkMain.class.getResourceAsStream(OPTIONS_RESOURCE))
        {
            if (in == null)
            {
                throw new IOException(OPTIONS_RESOURCE + " is missing from the jar: rebuild with 'mvn -pl benchmarks -am package'");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
        }
    }

    /**
     * @param args JMH's command line.
     * @throws Exception as JMH's Main does.
     */
    public static void main(final String[] args) throws Exception
    {
        final List<String> out = new ArrayList<>(Arrays.asList(args));
        String append = jvmFlags();
        final int given = out.indexOf("-jvmArgsAppend");
        if (given >= 0 && given + 1 < out.size())
        {
            append = append + " " + out.get(given + 1);
            out.remove(given + 1);
            out.remove(given);
        }
        final boolean replaced = out.contains("-jvmArgs");
        if (!replaced)
        {
            out.add(0, append);
            out.add(0, "-jvmArgsAppend");
        }
        org.openjdk.jmh.Main.main(out.toArray(new String[0]));
    }
}
