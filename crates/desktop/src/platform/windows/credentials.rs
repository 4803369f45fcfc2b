//! Secrets in the Windows Credential Manager: one generic credential per secret, for this user on
//! this machine ("Lonceng/sign-in-token", "Lonceng/crm-client-secret"), as Windows apps keep theirs.

use windows::core::{HSTRING, PWSTR};
use windows::Win32::Security::Credentials::{
    CredDeleteW, CredFree, CredReadW, CredWriteW, CREDENTIALW, CRED_FLAGS, CRED_MAX_CREDENTIAL_BLOB_SIZE,
    CRED_PERSIST_LOCAL_MACHINE, CRED_TYPE_GENERIC,
};

use crate::secret_kind::SecretKind;

/// The credential's name in the Credential Manager.
pub fn target(kind: SecretKind) -> String {
    format!("Lonceng/{}", kind.attribute())
}

fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

/// The secret, if one is stored and readable.
pub fn read(kind: SecretKind) -> Option<String> {
    let mut cred: *mut CREDENTIALW = std::ptr::null_mut();
    // SAFETY: CredReadW fills `cred` with a buffer we own until CredFree.
    unsafe {
        CredReadW(&HSTRING::from(target(kind)), CRED_TYPE_GENERIC, None, &mut cred).ok()?;
        let c = &*cred;
        let len = c.CredentialBlobSize as usize;
        let value = if c.CredentialBlob.is_null() || len == 0 {
            None
        } else {
            String::from_utf8(std::slice::from_raw_parts(c.CredentialBlob, len).to_vec()).ok()
        };
        CredFree(cred as *const std::ffi::c_void);
        value.filter(|v| !v.is_empty())
    }
}

/// Stores the secret (replacing the one before); an empty value removes it.
pub fn write(kind: SecretKind, value: &str) -> Result<(), String> {
    if value.is_empty() {
        // SAFETY: a plain call with a NUL-terminated name; "not found" is what we want anyway.
        let _ = unsafe { CredDeleteW(&HSTRING::from(target(kind)), CRED_TYPE_GENERIC, None) };
        return Ok(());
    }
    let mut blob = value.as_bytes().to_vec();
    if blob.len() > CRED_MAX_CREDENTIAL_BLOB_SIZE as usize {
        return Err(format!(
            "the secret is {} bytes; the Credential Manager keeps at most {CRED_MAX_CREDENTIAL_BLOB_SIZE}",
            blob.len()
        ));
    }
    let (mut name, mut user, mut comment) = (wide(&target(kind)), wide("lonceng"), wide(kind.label()));
    let cred = CREDENTIALW {
        Flags: CRED_FLAGS(0),
        Type: CRED_TYPE_GENERIC,
        TargetName: PWSTR(name.as_mut_ptr()),
        Comment: PWSTR(comment.as_mut_ptr()),
        CredentialBlobSize: blob.len() as u32,
        CredentialBlob: blob.as_mut_ptr(),
        Persist: CRED_PERSIST_LOCAL_MACHINE,
        UserName: PWSTR(user.as_mut_ptr()),
        ..Default::default()
    };
    // SAFETY: every pointer in `cred` lives until the call returns; Windows copies them.
    unsafe { CredWriteW(&cred, 0) }.map_err(|e| format!("the Credential Manager refused the secret: {e}"))
}
