/**
 * Text-line recognition with PaddleOCR's PP-OCRv4 recogniser (ONNX) on
 * onnxruntime-node. The input is an image of one line of text (PNG); the
 * output is the text and the mean confidence of its characters.
 *
 * Pre-processing is PaddleOCR's: scale to 48 px high keeping the aspect
 * ratio, pixels to [-1, 1], channels first. Post-processing is greedy CTC:
 * the best class per time step, repeats merged, blanks dropped.
 */
import { readFile } from 'node:fs/promises';
import ort from 'onnxruntime-node';
import { PNG } from 'pngjs';

const HEIGHT = 48;
const MAX_WIDTH = 2048;

/** Opens the model and its character list (one character per line). */
export async function openRecognizer(modelPath, dictionaryPath) {
  const session = await ort.InferenceSession.create(modelPath);
  const lines = (await readFile(dictionaryPath, 'utf8')).split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  // Class 0 is the CTC blank; the last class is the space (PaddleOCR's use_space_char).
  const classes = ['', ...lines, ' '];
  const [input] = session.inputNames;
  const [output] = session.outputNames;

  return {
    classes: classes.length,
    /** Recognises the text in a PNG image of one line. */
    async recognize(png) {
      const tensor = toTensor(decodePng(png));
      const result = await session.run({ [input]: tensor });
      const probs = result[output];
      const [, steps, width] = probs.dims;
      if (width !== classes.length) {
        throw new Error(`the model has ${width} classes, the dictionary ${classes.length}`);
      }
      return decodeCtc(probs.data, steps, width, classes);
    },
    close: () => session.release(),
  };
}

/** RGBA pixels of a PNG; a clear error for anything else. */
function decodePng(bytes) {
  try {
    return PNG.sync.read(bytes);
  } catch (err) {
    throw Object.assign(new Error(`not a PNG image: ${err.message}`), { status: 415 });
  }
}

/** [1, 3, 48, W] float32 in [-1, 1], bilinear-scaled to 48 px high. */
function toTensor({ width, height, data }) {
  const outWidth = Math.max(8, Math.min(MAX_WIDTH, Math.round((width * HEIGHT) / height)));
  const plane = HEIGHT * outWidth;
  const out = new Float32Array(3 * plane);
  const sx = width / outWidth;
  const sy = height / HEIGHT;
  for (let y = 0; y < HEIGHT; y++) {
    const fy = Math.max(0, (y + 0.5) * sy - 0.5);
    const y0 = Math.min(height - 1, Math.floor(fy));
    const y1 = Math.min(height - 1, y0 + 1);
    const wy = fy - y0;
    for (let x = 0; x < outWidth; x++) {
      const fx = Math.max(0, (x + 0.5) * sx - 0.5);
      const x0 = Math.min(width - 1, Math.floor(fx));
      const x1 = Math.min(width - 1, x0 + 1);
      const wx = fx - x0;
      for (let c = 0; c < 3; c++) {
        const at = (xx, yy) => {
          const i = (yy * width + xx) * 4;
          // Transparent pixels count as white paper.
          const alpha = data[i + 3] / 255;
          return data[i + c] * alpha + 255 * (1 - alpha);
        };
        const top = at(x0, y0) * (1 - wx) + at(x1, y0) * wx;
        const bottom = at(x0, y1) * (1 - wx) + at(x1, y1) * wx;
        // PaddleOCR feeds BGR: channel 0 is blue.
        out[(2 - c) * plane + y * outWidth + x] = ((top * (1 - wy) + bottom * wy) / 255 - 0.5) / 0.5;
      }
    }
  }
  return new ort.Tensor('float32', out, [1, 3, HEIGHT, outWidth]);
}

/** Greedy CTC decoding of [1, steps, classes] probabilities. */
function decodeCtc(probs, steps, width, classes) {
  let text = '';
  let previous = 0;
  let sum = 0;
  let count = 0;
  for (let t = 0; t < steps; t++) {
    let best = 0;
    let bestP = -1;
    for (let k = 0; k < width; k++) {
      const p = probs[t * width + k];
      if (p > bestP) {
        bestP = p;
        best = k;
      }
    }
    if (best !== 0 && best !== previous) {
      text += classes[best];
      sum += bestP;
      count++;
    }
    previous = best;
  }
  return { text: text.trim(), confidence: count ? Math.round((sum / count) * 1e4) / 1e4 : 0 };
}
