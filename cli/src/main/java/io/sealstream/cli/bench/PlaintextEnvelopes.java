package io.sealstream.cli.bench;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidKeyException;
import java.security.Key;
import java.security.NoSuchAlgorithmException;
import java.security.Provider;
import java.security.SecureRandom;
import java.security.Security;
import java.security.spec.AlgorithmParameterSpec;
import java.util.Arrays;
import javax.crypto.BadPaddingException;
import javax.crypto.Cipher;
import javax.crypto.CipherSpi;
import javax.crypto.IllegalBlockSizeException;
import javax.crypto.NoSuchPaddingException;
import javax.crypto.ShortBufferException;

/**
 * The plaintext mode of {@code sealstream bench pipeline} (P2): while installed, the envelope's
 * AES-256-GCM, on both the client's and the worker's side, copies instead of encrypting, so the
 * same pipeline (same records, sizes, topics, buffer, batcher and transactions) runs without the
 * payload cipher and the difference is what encryption costs.
 *
 * <p>Why a JCA provider and not a switch in the envelope: production code has no way to turn
 * encryption off, so neither has an attacker; only this benchmark, in its own JVM, installs it.
 * It recognises the envelope's ciphers by their associated data, which starts with the envelope's
 * request or response label; every other AES-GCM use (TLS to the brokers, HPKE key wrapping, the
 * key broker) goes to the JDK's own provider untouched. Key derivation (HKDF) stays, as does the
 * 16-byte tag's space, so records keep their size. Threads that used AES-GCM before installation
 * keep their cached JDK cipher, so the benchmark installs it before starting a fresh stack.
 */
final class PlaintextEnvelopes implements AutoCloseable {
    static final String PROVIDER_NAME = "SealstreamBenchPlaintextEnvelopes";
    private static final int TAG_BYTES = 16;
    private static final byte[][] ENVELOPE_AAD_PREFIXES = {
            labelPrefix("sealstream/v1/request-aad"), labelPrefix("sealstream/v1/response-aad")};

    private PlaintextEnvelopes() {
        Security.insertProviderAt(new EnvelopeProvider(), 1);
    }

    /** Installs the plaintext mode for this JVM until {@link #close}. */
    static PlaintextEnvelopes install() {
        if (Security.getProvider(PROVIDER_NAME) != null) {
            throw new IllegalStateException("the plaintext envelope mode is installed already");
        }
        return new PlaintextEnvelopes();
    }

    @Override
    public void close() {
        Security.removeProvider(PROVIDER_NAME);
    }

    /** The envelope's canonical encoding of its domain label, the first field of every envelope AAD. */
    private static byte[] labelPrefix(String label) {
        byte[] utf8 = label.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(5 + utf8.length).put((byte) 's').putInt(utf8.length).put(utf8).array();
    }

    private static boolean isEnvelopeAad(byte[] aad, int offset, int length) {
        for (byte[] prefix : ENVELOPE_AAD_PREFIXES) {
            if (length >= prefix.length && Arrays.equals(aad, offset, offset + prefix.length, prefix, 0, prefix.length)) {
                return true;
            }
        }
        return false;
    }

    private static final class EnvelopeProvider extends Provider {
        EnvelopeProvider() {
            super(PROVIDER_NAME, "1", "benchmark only: the envelope's AES-GCM copies instead of encrypting");
            putService(new Service(this, "Cipher", "AES/GCM/NoPadding", CopyingEnvelopeCipher.class.getName(), null, null));
        }
    }

    /**
     * AES/GCM/NoPadding that decides at its associated data: an envelope's is copied (encrypting
     * appends 16 zero bytes where the tag goes, decrypting drops them), anything else runs on the
     * JDK's cipher. Public with a public constructor because the JCA instantiates it by name.
     */
    public static final class CopyingEnvelopeCipher extends CipherSpi {
        private int opmode;
        private Key key;
        private AlgorithmParameterSpec params;
        private SecureRandom random;
        /** The JDK's cipher, kept across operations (as the JCA's callers keep theirs). */
        private Cipher jdk;
        /** Whether {@link #jdk} holds this operation's parameters. */
        private boolean jdkReady;
        private boolean copying;
        private final java.io.ByteArrayOutputStream buffered = new java.io.ByteArrayOutputStream();

        public CopyingEnvelopeCipher() {
        }

        @Override
        protected void engineInit(int opmode, Key key, AlgorithmParameterSpec params, SecureRandom random)
                throws InvalidKeyException, InvalidAlgorithmParameterException {
            this.opmode = opmode;
            this.key = key;
            this.params = params;
            this.random = random;
            this.jdkReady = false;
            this.copying = false;
            buffered.reset();
        }

        @Override
        protected void engineInit(int opmode, Key key, SecureRandom random) throws InvalidKeyException {
            try {
                engineInit(opmode, key, (AlgorithmParameterSpec) null, random);
            } catch (InvalidAlgorithmParameterException e) {
                throw new InvalidKeyException(e);
            }
        }

        @Override
        protected void engineInit(int opmode, Key key, AlgorithmParameters params, SecureRandom random)
                throws InvalidKeyException, InvalidAlgorithmParameterException {
            try {
                engineInit(opmode, key, params == null ? null
                        : params.getParameterSpec(javax.crypto.spec.GCMParameterSpec.class), random);
            } catch (java.security.spec.InvalidParameterSpecException e) {
                throw new InvalidAlgorithmParameterException(e);
            }
        }

        @Override
        protected void engineUpdateAAD(byte[] src, int offset, int len) {
            if (!jdkReady && !copying && isEnvelopeAad(src, offset, len)) {
                copying = true;
            }
            if (!copying) {
                jdk().updateAAD(src, offset, len);
            }
        }

        @Override
        protected void engineUpdateAAD(ByteBuffer src) {
            if (!jdkReady && !copying && src.hasArray()) {
                engineUpdateAAD(src.array(), src.arrayOffset() + src.position(), src.remaining());
                src.position(src.limit());
                return;
            }
            if (!copying) {
                jdk().updateAAD(src);
            } else {
                src.position(src.limit());
            }
        }

        @Override
        protected byte[] engineUpdate(byte[] input, int offset, int len) {
            if (copying) {
                buffered.write(input, offset, len);
                return new byte[0];
            }
            return jdk().update(input, offset, len);
        }

        @Override
        protected int engineUpdate(byte[] input, int offset, int len, byte[] output, int outputOffset)
                throws ShortBufferException {
            if (copying) {
                buffered.write(input, offset, len);
                return 0;
            }
            return jdk().update(input, offset, len, output, outputOffset);
        }

        @Override
        protected int engineUpdate(ByteBuffer input, ByteBuffer output) throws ShortBufferException {
            if (copying) {
                return super.engineUpdate(input, output);
            }
            return jdk().update(input, output);
        }

        @Override
        protected byte[] engineDoFinal(byte[] input, int offset, int len)
                throws IllegalBlockSizeException, BadPaddingException {
            if (copying) {
                buffered.write(input, offset, len);
                return finishCopy();
            }
            return jdk().doFinal(input, offset, len);
        }

        @Override
        protected int engineDoFinal(byte[] input, int offset, int len, byte[] output, int outputOffset)
                throws ShortBufferException, IllegalBlockSizeException, BadPaddingException {
            if (copying) {
                buffered.write(input, offset, len);
                byte[] out = finishCopy();
                if (output.length - outputOffset < out.length) {
                    throw new ShortBufferException("need " + out.length + " bytes of output");
                }
                System.arraycopy(out, 0, output, outputOffset, out.length);
                return out.length;
            }
            return jdk().doFinal(input, offset, len, output, outputOffset);
        }

        @Override
        protected int engineDoFinal(ByteBuffer input, ByteBuffer output)
                throws ShortBufferException, IllegalBlockSizeException, BadPaddingException {
            if (copying) {
                return super.engineDoFinal(input, output);
            }
            return jdk().doFinal(input, output);
        }

        private byte[] finishCopy() throws BadPaddingException {
            byte[] in = buffered.toByteArray();
            buffered.reset();
            if (opmode == Cipher.ENCRYPT_MODE) {
                return Arrays.copyOf(in, in.length + TAG_BYTES);
            }
            if (in.length < TAG_BYTES) {
                throw new BadPaddingException("an envelope ciphertext shorter than its tag");
            }
            return Arrays.copyOf(in, in.length - TAG_BYTES);
        }

        @Override
        protected int engineGetOutputSize(int inputLen) {
            if (copying) {
                int total = buffered.size() + inputLen;
                return opmode == Cipher.ENCRYPT_MODE ? total + TAG_BYTES : Math.max(0, total - TAG_BYTES);
            }
            return jdk().getOutputSize(inputLen);
        }

        @Override
        protected byte[] engineGetIV() {
            return copying ? null : jdk().getIV();
        }

        @Override
        protected AlgorithmParameters engineGetParameters() {
            return copying ? null : jdk().getParameters();
        }

        @Override
        protected int engineGetBlockSize() {
            return 16;
        }

        @Override
        protected void engineSetMode(String mode) throws NoSuchAlgorithmException {
            if (!"GCM".equalsIgnoreCase(mode)) {
                throw new NoSuchAlgorithmException("only GCM, got " + mode);
            }
        }

        @Override
        protected void engineSetPadding(String padding) throws NoSuchPaddingException {
            if (!"NoPadding".equalsIgnoreCase(padding)) {
                throw new NoSuchPaddingException("only NoPadding, got " + padding);
            }
        }

        /** The JDK's AES-GCM, initialised with this operation's parameters on first use. */
        private Cipher jdk() {
            if (!jdkReady) {
                try {
                    if (jdk == null) {
                        jdk = Cipher.getInstance("AES/GCM/NoPadding", "SunJCE");
                    }
                    jdk.init(opmode, key, params, random);
                } catch (GeneralSecurityException e) {
                    throw new IllegalStateException("the JDK's AES-GCM refused the operation (" + e.getMessage() + ")", e);
                }
                jdkReady = true;
            }
            return jdk;
        }
    }
}
