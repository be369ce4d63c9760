package io.vmsched.tools;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;

/**
 * JSON lines through Jackson's streaming {@link JsonGenerator}: one object per line, written to a
 * {@link Writer} the caller owns. The escaping is Jackson's: quotes, backslashes and control
 * characters escaped, other text (non-ASCII too) written as it is.
 * <p>
 * Threading: the methods are threadsafe; a generator is confined to the thread that writes with it.
 */
public final class Json
{
    /** Immutable once built, so shared: a factory is threadsafe, its generators are not. */
    private static final JsonFactory FACTORY = new JsonFactoryBuilder()
        .disable(StreamWriteFeature.AUTO_CLOSE_TARGET) // the caller's writer (stdout, often) outlives the generator
        .rootValueSeparator((String)null) // lines are ended by endLine, not separated by Jackson's default space
        .build();

    private Json()
    {
    }

    /**
     * @param out where to write; closing the generator flushes it and leaves {@code out} open.
     * @return a generator for JSON lines: end each top-level value with {@link #endLine(JsonGenerator)}.
     */
    public static JsonGenerator lines(final Writer out)
    {
        try
        {
            return FACTORY.createGenerator(out);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    /**
     * End the line after a top-level value.
     *
     * @param generator the generator.
     * @throws IOException if the writer fails.
     */
    public static void endLine(final JsonGenerator generator) throws IOException
    {
        generator.writeRaw('\n');
    }

    /**
     * Write a number field, or null where JSON has no number for it.
     *
     * @param generator the generator, inside an object.
     * @param name      the field's name.
     * @param value     the value: NaN and the infinities are written as null (JSON has neither).
     * @throws IOException if the writer fails.
     */
    public static void number(final JsonGenerator generator, final String name, final double value) throws IOException
    {
        generator.writeFieldName(name);
        if (Double.isFinite(value))
        {
            generator.writeNumber(value);
        }
        else
        {
            generator.writeNull();
        }
    }
}
