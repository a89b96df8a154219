"""Signed C2PA content credentials: a verifiable "AI-generated" label inside every MP4.

The manifest (c2pa-python) records that the video was made by a trained model,
with which model and seed, and for a remix which video it came from. It is
signed, so editing any byte of the video data breaks it; a re-encode drops it.

A local instance signs with certificates it makes on its first start: a root
CA and a leaf under it. It trusts its own root, so its videos check as
"Trusted" here and as "Valid" (intact, signer unknown) anywhere else. A
production instance passes a certificate from a CA that others trust.

The app runs offline, without a timestamp authority, so c2pa checks the
signing certificate against today's date: once a leaf expires, every video it
ever signed turns "Invalid". The local leaf is therefore valid for 100 years.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import c2pa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .video_io import atomic_file

AI_GENERATED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
GENERATION_LABEL = "org.dreamreel.generation"
VALIDITY = dt.timedelta(days=100 * 365)

ROOT_FILE = "root.pem"
CERTIFICATE_FILE = "certificate.pem"
KEY_FILE = "private-key.pem"

_ACTIONS = ("c2pa.actions", "c2pa.actions.v2")
# The signer EKUs of c2pa-rs's valid_eku_oids.cfg. Unconfigured, c2pa 0.91.3 accepts only emailProtection.
_SIGNING_EKUS = (ExtendedKeyUsageOID.EMAIL_PROTECTION, x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36"),  # documentSigning
                 x509.ObjectIdentifier("1.3.6.1.4.1.62558.2.1"), x509.ObjectIdentifier("1.3.6.1.4.1.311.76.59.1.9"))
_NO_OTHER_USAGE = dict(content_commitment=False, key_encipherment=False, data_encipherment=False,
                       key_agreement=False, encipher_only=False, decipher_only=False)


@dataclass(frozen=True)
class CredentialsCheck:
    """What a file's content credentials say, and whether they hold."""

    state: str
    """"Trusted" (signed under a root trusted here), "Valid" (intact, signer not trusted here),
    "Invalid" (tampered, or a bad signature or certificate) or "Missing" (no manifest in the file)."""
    ai_generated: bool = False
    """The active manifest's actions declare trainedAlgorithmicMedia."""
    generation: dict = field(default_factory=dict)
    """The ``org.dreamreel.generation`` assertion: model, seed, post id..."""
    parent: str | None = None
    """The title of the ``parentOf`` ingredient: the video a remix was made from."""
    signer: str | None = None
    """The signing certificate's organisation, as c2pa reports it."""
    failures: tuple[str, ...] = ()
    """``"code: explanation"`` for every validation failure c2pa reports."""


class ContentCredentials:
    """Signs MP4s with one certificate and checks anyone's against a set of trusted roots."""

    def __init__(self, certificate_chain: bytes, private_key: bytes, trust_anchors: bytes) -> None:
        key = serialization.load_pem_private_key(private_key, password=None)
        self.signer = c2pa.Signer.from_info(
            c2pa.C2paSignerInfo(_algorithm(key), certificate_chain, private_key, None))
        trust = {"user_anchors": trust_anchors.decode(),
                 "trust_config": "".join(f"{oid.dotted_string}\n" for oid in _SIGNING_EKUS)}
        # Never fetch a manifest from a URL that an uploaded file names.
        self.context = c2pa.Context.from_dict({"verify": {"remote_manifest_fetch": False}, "trust": trust})

    @classmethod
    def for_instance(cls, directory: Path, organization: str = "Dreamreel", *, certificate: Path | None = None,
                     private_key: Path | None = None, trust_anchors: Path | None = None) -> ContentCredentials:
        """A local instance makes its own root CA and signing certificate in ``directory`` on first start.

        Key files are 0600, every file is written atomically, and later starts
        reuse them. Production passes a certificate chain PEM (leaf first, then
        intermediates, without the root) and its private key PEM.
        ``trust_anchors`` is a PEM of roots to trust besides the local root,
        which stays trusted if one was ever made, so that older videos keep
        checking as this instance's own.
        """
        directory = Path(directory)
        if (certificate is None) != (private_key is None):
            raise ValueError("A production certificate and its private key are given together.")
        if certificate is None:
            chain, key, anchors = _local_credentials(directory, organization)
        else:
            chain, key = Path(certificate).read_bytes(), Path(private_key).read_bytes()
            _check_production(chain, key, Path(certificate).name)
            local_root = directory / ROOT_FILE
            anchors = local_root.read_bytes() if local_root.is_file() else b""
        if trust_anchors is not None:
            anchors += Path(trust_anchors).read_bytes()
        return cls(chain, key, anchors)

    def sign(self, source: Path, destination: Path, generation: dict, parent: Path | None = None) -> None:
        """Write ``source`` with an embedded signed manifest to ``destination`` (atomically; may be ``source``).

        ``generation`` (JSON data: model, seed, post id...) goes into the
        ``org.dreamreel.generation`` assertion; ``parent`` is the remixed
        video's MP4, recorded as a ``parentOf`` ingredient.
        """
        source, destination = Path(source), Path(destination)
        if parent is None:
            actions = [{"action": "c2pa.created", "digitalSourceType": AI_GENERATED}]
        else:  # c2pa requires an "opened" parent before the edit, and no "created"
            actions = [{"action": "c2pa.opened", "parameters": {"ingredientIds": ["parent"]}},
                       {"action": "c2pa.edited", "digitalSourceType": AI_GENERATED}]
        manifest = {"claim_generator_info": [{"name": "Dreamreel"}], "title": destination.name,
                    "assertions": [{"label": "c2pa.actions", "data": {"actions": actions}},
                                   {"label": GENERATION_LABEL, "data": generation}]}
        with c2pa.Builder(manifest, context=self.context) as builder:
            if parent is not None:
                with open(parent, "rb") as f:
                    builder.add_ingredient({"title": Path(parent).name, "relationship": "parentOf",
                                            "label": "parent"}, "video/mp4", f)
            with open(source, "rb") as src, atomic_file(destination) as tmp, open(tmp, "w+b") as dst:
                builder.sign(self.signer, "video/mp4", src, dst)

    def check(self, path: Path) -> CredentialsCheck:
        """Read and validate the credentials of any file, such as an upload; never raises for its content."""
        try:
            with open(path, "rb") as f:
                reader = c2pa.Reader.try_create(f, context=self.context)
                if reader is None:
                    return CredentialsCheck("Missing")
                with reader:
                    return _summary(json.loads(reader.json()))
        except c2pa.C2paError.NotSupported:  # not a format that can carry a manifest
            return CredentialsCheck("Missing")
        except c2pa.C2paError as e:
            if str(e).startswith("Remote:"):  # c2pa-python 0.38.1 raises the base class for this one
                return CredentialsCheck("Missing", failures=(f"{e} (remote manifests are never fetched)",))
            return CredentialsCheck("Invalid", failures=(str(e),))


def _summary(store: dict) -> CredentialsCheck:
    manifest = store.get("manifests", {}).get(store.get("active_manifest"), {})
    assertions = manifest.get("assertions", [])
    actions = [a for item in assertions if item["label"] in _ACTIONS for a in item["data"].get("actions", [])]
    results = store.get("validation_results", {})
    failures = [*results.get("activeManifest", {}).get("failure", []),
                *(f for delta in results.get("ingredientDeltas", []) for f in delta["validationDeltas"]["failure"])]
    return CredentialsCheck(
        state=store.get("validation_state") or "Invalid",
        ai_generated=any(a.get("digitalSourceType") == AI_GENERATED for a in actions),
        generation=next((item["data"] for item in assertions if item["label"] == GENERATION_LABEL), {}),
        parent=next((i.get("title") for i in manifest.get("ingredients", []) if i.get("relationship") == "parentOf"),
                    None),
        signer=manifest.get("signature_info", {}).get("issuer"),
        failures=tuple(f"{f['code']}: {f.get('explanation', '')}" for f in failures),
    )


def _local_credentials(directory: Path, organization: str) -> tuple[bytes, bytes, bytes]:
    """(certificate, private key, root) PEMs from ``directory``, made on the first call."""
    key_path = directory / KEY_FILE
    if key_path.is_file():  # written last, so the other two are complete
        return (directory / CERTIFICATE_FILE).read_bytes(), key_path.read_bytes(), (directory / ROOT_FILE).read_bytes()
    directory.mkdir(parents=True, exist_ok=True)
    certificate, key, root = _make_certificates(organization)
    for name, data in ((ROOT_FILE, root), (CERTIFICATE_FILE, certificate), (KEY_FILE, key)):
        with atomic_file(directory / name) as tmp:
            if name == KEY_FILE:
                tmp.chmod(0o600)
            tmp.write_bytes(data)
    return certificate, key, root


def _make_certificates(organization: str) -> tuple[bytes, bytes, bytes]:
    """A P-256 root CA and a leaf with what c2pa requires of a signer.

    The leaf is not a CA; it has digitalSignature, an authority key id, an O=
    in its subject and the emailProtection EKU, the one signer EKU that
    c2pa 0.91.3 accepts with default settings. The root's key is dropped: it
    signs only this leaf, and no other certificate is ever needed under it.
    """
    now = dt.datetime.now(dt.timezone.utc)
    root_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    root_name = _name(organization, f"{organization} content credentials root")

    def certificate(subject: x509.Name, key: ec.EllipticCurvePrivateKey) -> x509.CertificateBuilder:
        return (x509.CertificateBuilder().subject_name(subject).issuer_name(root_name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + VALIDITY)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
                               critical=False))

    root = (certificate(root_name, root_key)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, key_cert_sign=True, crl_sign=True,
                                         **_NO_OTHER_USAGE), critical=True)
            .sign(root_key, hashes.SHA256()))
    leaf = (certificate(_name(organization, f"{organization} content credentials"), leaf_key)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False,
                                         **_NO_OTHER_USAGE), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .sign(root_key, hashes.SHA256()))
    key = leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
    return leaf.public_bytes(serialization.Encoding.PEM), key, root.public_bytes(serialization.Encoding.PEM)


def _name(organization: str, common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _check_production(chain: bytes, private_key: bytes, name: str) -> None:
    """Refuse at start what c2pa would only refuse at the first signing."""
    leaf = x509.load_pem_x509_certificates(chain)[0]
    key = serialization.load_pem_private_key(private_key, password=None)
    if leaf.public_key() != key.public_key():
        raise ValueError(f"The private key does not belong to the first certificate in {name}.")
    if leaf.not_valid_after_utc <= dt.datetime.now(dt.timezone.utc):
        raise ValueError(f"The certificate in {name} expired on {leaf.not_valid_after_utc:%Y-%m-%d}.")
    try:
        usages = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        usages = []
    if not any(oid in usages for oid in _SIGNING_EKUS):
        raise ValueError(f"The certificate in {name} has no extended key usage that C2PA accepts for signing "
                         "(emailProtection, documentSigning or a C2PA one).")


def _algorithm(key: PrivateKeyTypes) -> c2pa.C2paSigningAlg:
    """The c2pa signing algorithm for a private key: ECDSA by curve, RSA-PSS, or Ed25519."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        curves = {"secp256r1": c2pa.C2paSigningAlg.ES256, "secp384r1": c2pa.C2paSigningAlg.ES384,
                  "secp521r1": c2pa.C2paSigningAlg.ES512}
        if key.curve.name in curves:
            return curves[key.curve.name]
    if isinstance(key, rsa.RSAPrivateKey):
        return c2pa.C2paSigningAlg.PS256
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return c2pa.C2paSigningAlg.ED25519
    raise ValueError("C2PA signs with a P-256, P-384 or P-521 EC key, an RSA key or an Ed25519 key.")
