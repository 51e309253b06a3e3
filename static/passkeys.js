// Passkeys: sign in (button and autofill) and create one. Loaded only on pages that need it.
// Without JavaScript or WebAuthn, these controls stay hidden and email links still work.

const b64 = {
  decode(text) {
    const base = text.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base + "===".slice((base.length + 3) % 4);
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)).buffer;
  },
  encode(buffer) {
    const bytes = String.fromCharCode(...new Uint8Array(buffer));
    return btoa(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  },
};

function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]').content;
}

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
    body: JSON.stringify(body || {}),
    credentials: "same-origin",
  });
  const data = await response.json().catch(() => ({ error: "Something went wrong. Try again." }));
  if (!response.ok) throw new Error(data.error || "That did not work. Try again.");
  return data;
}

function credentialToJSON(credential) {
  const r = credential.response;
  const response = { clientDataJSON: b64.encode(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = b64.encode(r.attestationObject);
    response.transports = r.getTransports ? r.getTransports() : [];
  } else {
    response.authenticatorData = b64.encode(r.authenticatorData);
    response.signature = b64.encode(r.signature);
    if (r.userHandle) response.userHandle = b64.encode(r.userHandle);
  }
  return {
    id: credential.id,
    rawId: b64.encode(credential.rawId),
    type: credential.type,
    response,
    clientExtensionResults: credential.getClientExtensionResults(),
    authenticatorAttachment: credential.authenticatorAttachment,
  };
}

function requestOptions(options) {
  return {
    ...options,
    challenge: b64.decode(options.challenge),
    allowCredentials: (options.allowCredentials || []).map((c) => ({ ...c, id: b64.decode(c.id) })),
  };
}

function creationOptions(options) {
  return {
    ...options,
    challenge: b64.decode(options.challenge),
    user: { ...options.user, id: b64.decode(options.user.id) },
    excludeCredentials: (options.excludeCredentials || []).map((c) => ({ ...c, id: b64.decode(c.id) })),
  };
}

function showError(box, error) {
  if (!box) return;
  box.textContent = error.name === "NotAllowedError"
    ? "The passkey request was cancelled or timed out. Try again, or use an email link."
    : error.message;
}

// -- signing in ------------------------------------------------------------------------------

let pendingAutofill = null;

async function signInWithPasskey(mediation, errorBox) {
  const options = await post("/passkeys/authenticate/options");
  const request = { publicKey: requestOptions(options) };
  if (mediation === "conditional") {
    pendingAutofill = new AbortController();
    request.mediation = "conditional";
    request.signal = pendingAutofill.signal;
  }
  const credential = await navigator.credentials.get(request);
  const next = document.querySelector('input[name="next"]');
  const result = await post("/passkeys/authenticate", {
    credential: credentialToJSON(credential),
    next: next ? next.value : "/",
  });
  window.location.assign(result.redirect);
}

function setUpSignIn(root) {
  const button = root.querySelector("[data-passkey-signin]");
  if (!button) return;
  const errorBox = root.querySelector("[data-passkey-error]");
  root.querySelectorAll(".needs-webauthn").forEach((el) => { el.hidden = false; });
  button.addEventListener("click", async () => {
    if (pendingAutofill) pendingAutofill.abort();
    try {
      await signInWithPasskey("modal", errorBox);
    } catch (error) {
      showError(errorBox, error);
    }
  });
  if (PublicKeyCredential.isConditionalMediationAvailable) {
    PublicKeyCredential.isConditionalMediationAvailable().then((available) => {
      if (!available) return;
      signInWithPasskey("conditional", errorBox).catch((error) => {
        if (error.name !== "AbortError") showError(errorBox, error);
      });
    });
  }
}

// -- creating a passkey ----------------------------------------------------------------------

function setUpRegistration(root) {
  root.querySelectorAll("[data-passkey-register]").forEach((form) => {
    form.hidden = false;
    const errorBox = form.querySelector("[data-passkey-error]");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const options = await post("/passkeys/register/options");
        const credential = await navigator.credentials.create({ publicKey: creationOptions(options) });
        const name = form.querySelector('input[name="name"]');
        const result = await post("/passkeys/register", {
          credential: credentialToJSON(credential),
          name: name ? name.value : "",
          next: form.dataset.next || "",
        });
        window.location.assign(result.redirect);
      } catch (error) {
        showError(errorBox, error);
      }
    });
  });
}

if (window.PublicKeyCredential) {
  document.documentElement.classList.add("webauthn");
  setUpSignIn(document);
  setUpRegistration(document);
}
