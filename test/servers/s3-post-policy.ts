/**
 * POST policy enforcement for the s3rver child (CommonJS source, spliced into
 * CHILD_SOURCE by s3-server-child.ts). s3rver 3.7.1 stores any browser POST
 * and ignores its policy; S3 checks it, and that check is the only thing that
 * enforces presignUpload()'s maxSize and content type. Behaviour follows the
 * S3 docs ("POST Policy", "Authenticating Requests in Browser-Based Uploads
 * Using POST (AWS Signature Version 4)") and the ceph/s3-tests POST cases:
 *
 * - SigV4 only: x-amz-signature must be hex HMAC-SHA256 of the base64 policy
 *   under the signing key derived from the account's secret and the
 *   date/region/service of x-amz-credential (403 SignatureDoesNotMatch;
 *   403 InvalidAccessKeyId for an unknown key id). No policy and no
 *   signature is an anonymous POST, refused on this private bucket (403).
 * - Policy: valid JSON with "expiration" (ISO 8601 UTC) and "conditions",
 *   else 400 InvalidPolicyDocument; expired → 403 AccessDenied
 *   "Invalid according to Policy: Policy expired."
 * - Conditions: {"field": "v"}, ["eq", "$field", "v"], ["starts-with",
 *   "$field", "prefix"] (names and operators case-insensitive, values not; a
 *   field missing from the form counts as ""), failing → 403 AccessDenied
 *   "…Policy Condition failed: […]". "bucket" is the bucket in the URL.
 *   Every form field except policy, x-amz-signature, file and x-ignore-*
 *   must be named by a condition, else 403 "…Extra input fields: name".
 * - ["content-length-range", min, max] against the bytes of the file part:
 *   400 EntityTooLarge (ProposedSize, MaxSizeAllowed) or EntityTooSmall
 *   (ProposedSize, MinSizeAllowed). Fields before the file over 20 KB → 400
 *   MaxPostPreDataLengthExceededError.
 *
 * The body is read to its end before any answer (S3 may also answer early;
 * reading it all guarantees the client sees the 4xx rather than a reset), and
 * a refused POST never reaches s3rver, so nothing is written at the key. An
 * accepted body is kept in memory (bounded by the policy's max size) and
 * replayed to s3rver's own POST handler, which stores it as before.
 * Not emulated: SigV2 POST (501), "${filename}" in the key, the per-field
 * limits on which fields take starts-with, comma-separated Content-Type
 * lists, x-amz-date/credential date agreement, the 5 GB POST maximum.
 */
export const POST_POLICY_SOURCE = String.raw`
function installPostPolicy(s3rverDir) {
  const crypto = require('crypto');
  const nodePath = require('path');
  const { PassThrough } = require('stream');
  // s3rver's own busboy, so both read the form the same way.
  const Busboy = require(require.resolve('busboy', { paths: [s3rverDir] }));
  const S3Error = require(nodePath.join(s3rverDir, 'models', 'error.js'));
  const AWSAccount = require(nodePath.join(s3rverDir, 'models', 'account.js'));
  const objectCtrl = require(nodePath.join(s3rverDir, 'controllers', 'object.js'));

  const MAX_PRE_DATA = 20 * 1024;
  const UNSIGNED_FIELDS = new Set(['policy', 'x-amz-signature', 'file']);
  const SIGV4_FIELDS = [['policy', 'Policy'], ['x-amz-algorithm', 'X-Amz-Algorithm'],
    ['x-amz-credential', 'X-Amz-Credential'], ['x-amz-date', 'X-Amz-Date'], ['x-amz-signature', 'X-Amz-Signature']];
  const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

  // routes.js calls objectCtrl.postObject(ctx) at request time, after bucketExists.
  const postObject = objectCtrl.postObject;
  objectCtrl.postObject = async function (ctx) {
    if (ctx.is('multipart/form-data')) {
      const body = await readCheckedPost(ctx);
      // The body was consumed for the check; s3rver pipes ctx.req into its busboy: give it the copy.
      ctx.req.pipe = (dest) => {
        const replay = new PassThrough();
        replay.end(body);
        return replay.pipe(dest);
      };
    }
    return postObject.call(this, ctx);
  };

  function readCheckedPost(ctx) {
    const req = ctx.req;
    const bucket = ctx.params.bucket;
    return new Promise((resolve, reject) => {
      const chunks = [];
      let keep = true; // raw body kept for s3rver while the POST may still be stored
      let refusal = null;
      const fields = new Map(); // lower-case name -> { name, value }, first occurrence
      let preData = 0;
      let fileSeen = false;
      let fileSize = 0;
      let range = null;
      let settled = false;
      const drop = () => { keep = false; chunks.length = 0; };
      const refuse = (err) => { if (!refusal) refusal = err; drop(); };
      const fail = (err) => {
        if (settled) return;
        settled = true;
        req.unpipe();
        // Answer once the client has sent everything, so it reads the error instead of a reset.
        if (req.readableEnded || req.destroyed) return reject(err);
        req.on('end', () => reject(err));
        req.on('close', () => reject(err));
        req.resume();
      };
      const startFile = () => {
        fileSeen = true;
        const checked = checkFields(fields, bucket);
        if (checked instanceof S3Error) refuse(checked);
        else range = checked;
      };
      const countFile = (n) => {
        fileSize += n;
        if (range && fileSize > range.max) drop(); // refused at the end: stop holding the body
      };

      let busboy;
      try {
        busboy = new Busboy({ headers: ctx.headers });
      } catch {
        return fail(malformed());
      }
      busboy.on('field', (name, value) => {
        if (fileSeen) return; // S3 ignores what follows the file
        if (name === 'file') {
          // A "file" part without a filename arrives as a field (s3rver treats it as the file).
          startFile();
          countFile(Buffer.byteLength(value));
          return;
        }
        preData += Buffer.byteLength(name) + Buffer.byteLength(value);
        if (preData > MAX_PRE_DATA) {
          refuse(new S3Error('MaxPostPreDataLengthExceededError',
            'Your POST request fields preceeding the upload file was too large.'));
        }
        const lower = name.toLowerCase();
        if (!fields.has(lower)) fields.set(lower, { name, value });
      });
      busboy.on('file', (name, stream) => {
        // A part cut short errors on its own stream; unhandled, that would kill the server.
        stream.on('error', () => fail(malformed()));
        if (name !== 'file' || fileSeen) return stream.resume();
        startFile();
        stream.on('data', (chunk) => countFile(chunk.length));
      });
      busboy.on('error', () => fail(malformed()));
      busboy.on('finish', () => {
        if (settled) return;
        settled = true;
        if (refusal) return reject(refusal);
        if (fileSeen && range && fileSize > range.max) {
          return reject(new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size',
            { ProposedSize: fileSize, MaxSizeAllowed: range.max }));
        }
        if (fileSeen && range && fileSize < range.min) {
          return reject(new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size',
            { ProposedSize: fileSize, MinSizeAllowed: range.min }));
        }
        // No file part: s3rver's handler answers "POST requires exactly one file upload".
        resolve(Buffer.concat(chunks));
      });
      req.on('data', (chunk) => { if (keep) chunks.push(chunk); });
      req.on('close', () => {
        if (!req.complete) fail(new S3Error('IncompleteBody', 'The request body ended before the form did.'));
      });
      req.pipe(busboy);
    });
  }

  function malformed() {
    return new S3Error('MalformedPOSTRequest',
      'The body of your POST request is not well-formed multipart/form-data.');
  }

  function invalidPolicy(message) {
    return new S3Error('InvalidPolicyDocument', 'Invalid Policy: ' + message);
  }

  function deniedByPolicy(message) {
    return new S3Error('AccessDenied', 'Invalid according to Policy: ' + message);
  }

  function missingField(name) {
    return new S3Error('InvalidArgument',
      'Bucket POST must contain a field named \'' + name + '\'.  If it is specified, please check the order of the fields.',
      { ArgumentName: name, ArgumentValue: '' });
  }

  /** The fields before the file: an S3Error to answer, or the content-length-range to apply. */
  function checkFields(fields, bucket) {
    const value = (name) => (fields.has(name) ? fields.get(name).value : undefined);
    if (value('key') === undefined) return missingField('key');
    if (value('policy') === undefined && value('x-amz-signature') === undefined) {
      if (fields.has('awsaccesskeyid') || fields.has('signature')) {
        return new S3Error('NotImplemented', 'The test server checks SigV4 POST policies only.');
      }
      return new S3Error('AccessDenied', 'Access Denied'); // anonymous POST to a private bucket
    }
    for (const [lower, name] of SIGV4_FIELDS) {
      if (value(lower) === undefined) return missingField(name);
    }
    if (value('x-amz-algorithm') !== 'AWS4-HMAC-SHA256') {
      return new S3Error('InvalidArgument', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"',
        { ArgumentName: 'X-Amz-Algorithm', ArgumentValue: value('x-amz-algorithm') });
    }
    const scope = /^([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request$/.exec(value('x-amz-credential'));
    if (!scope) {
      return new S3Error('InvalidArgument', 'Invalid X-Amz-Credential: expected <key id>/<date>/<region>/s3/aws4_request',
        { ArgumentName: 'X-Amz-Credential', ArgumentValue: value('x-amz-credential') });
    }
    const [, accessKeyId, date, region, service] = scope;
    const account = AWSAccount.registry.get(accessKeyId);
    if (!account) {
      return new S3Error('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.',
        { AWSAccessKeyId: accessKeyId });
    }
    const secret = account.accessKeys.get(accessKeyId);
    let key = 'AWS4' + secret;
    for (const part of [date, region, service, 'aws4_request']) {
      key = crypto.createHmac('sha256', key).update(part).digest();
    }
    const expected = crypto.createHmac('sha256', key).update(value('policy')).digest('hex');
    const given = String(value('x-amz-signature')).toLowerCase();
    if (given.length !== expected.length ||
        !crypto.timingSafeEqual(Buffer.from(given), Buffer.from(expected))) {
      return new S3Error('SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
        { AWSAccessKeyId: accessKeyId });
    }

    let policy;
    try {
      policy = JSON.parse(Buffer.from(value('policy'), 'base64').toString('utf8'));
    } catch {
      return invalidPolicy('Invalid JSON.');
    }
    if (!policy || typeof policy !== 'object' || Array.isArray(policy)) return invalidPolicy('Invalid JSON.');
    if (policy.expiration === undefined) return invalidPolicy('Policy missing expiration.');
    if (typeof policy.expiration !== 'string' || !ISO_UTC.test(policy.expiration) ||
        Number.isNaN(Date.parse(policy.expiration))) {
      return invalidPolicy('Invalid \'expiration\' value: \'' + String(policy.expiration) + '\'');
    }
    if (!Array.isArray(policy.conditions)) return invalidPolicy('Policy missing conditions.');
    if (Date.parse(policy.expiration) <= Date.now()) return deniedByPolicy('Policy expired.');

    // The bucket is the one in the URL, whatever the form says.
    const form = new Map(fields);
    form.set('bucket', { name: 'bucket', value: bucket });
    const named = new Set();
    const range = { min: 0, max: Infinity };
    for (const condition of policy.conditions) {
      let op;
      let field;
      let operand;
      if (condition && typeof condition === 'object' && !Array.isArray(condition)) {
        const entries = Object.entries(condition);
        if (entries.length !== 1) {
          return invalidPolicy('Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.');
        }
        op = 'eq';
        field = entries[0][0].toLowerCase();
        operand = entries[0][1];
      } else if (Array.isArray(condition) && condition.length === 3) {
        op = String(condition[0]).toLowerCase();
        if (op === 'content-length-range') {
          const min = toLength(condition[1]);
          const max = toLength(condition[2]);
          if (min === undefined || max === undefined || min > max) {
            return invalidPolicy('Invalid content-length-range: ' + JSON.stringify(condition));
          }
          range.min = Math.max(range.min, min);
          range.max = Math.min(range.max, max);
          continue;
        }
        if (op !== 'eq' && op !== 'starts-with') {
          return invalidPolicy('Invalid Condition: unknown operator ' + JSON.stringify(condition[0]));
        }
        if (typeof condition[1] !== 'string' || !condition[1].startsWith('$')) {
          return invalidPolicy('Invalid Condition: the field must be named as "$field": ' + JSON.stringify(condition));
        }
        field = condition[1].slice(1).toLowerCase();
        operand = condition[2];
      } else {
        return invalidPolicy('Invalid Condition: ' + JSON.stringify(condition));
      }
      if (typeof operand !== 'string') {
        return invalidPolicy('Invalid Condition: the value must be a string: ' + JSON.stringify(condition));
      }
      named.add(field);
      const actual = form.has(field) ? form.get(field).value : '';
      const ok = op === 'eq' ? actual === operand : actual.startsWith(operand);
      if (!ok) {
        const shown = Array.isArray(condition) ? condition : ['eq', '$' + Object.keys(condition)[0], operand];
        return deniedByPolicy('Policy Condition failed: ' + JSON.stringify(shown).replace(/","/g, '", "'));
      }
    }
    for (const [lower, { name }] of form) {
      if (UNSIGNED_FIELDS.has(lower) || lower.startsWith('x-ignore-') || named.has(lower)) continue;
      return deniedByPolicy('Extra input fields: ' + name);
    }
    return range;
  }

  function toLength(value) {
    const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
    return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
  }
}
`;
