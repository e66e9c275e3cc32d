// Resumable video upload (tus 1.0.0 through Uppy's Tus plugin) for the entry form.
// Without JavaScript, or without Uppy, the same form posts the file as multipart: nothing here is required.
// Before the upload starts, the form's fields are checked by the server (data-check-url, the same services as
// the final submit): a missing title never costs a 2 GB upload (issue 11 point 3). A finished upload is kept
// by the server across a refused submit (the "kept" check box), so it is never sent twice.
(function () {
  "use strict";
  var form = document.querySelector("form[data-tus-endpoint]");
  if (!form || !window.Uppy || !window.Uppy.Uppy || !window.Uppy.Tus) return;
  var input = form.querySelector("input[type=file][name=video]");
  var hidden = form.querySelector("input[name=upload_id]");
  var progress = document.getElementById("upload-progress");
  var status = document.getElementById("upload-status");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var submitter = null;

  form.addEventListener("click", function (event) {
    if (event.target.name === "action") submitter = event.target;
  });

  // Messages come translated from the form's data-say-* attributes (Chinese when absent).
  var text = {
    uploading: form.dataset.sayUploading || "正在上传……网络中断后会自动续传。",
    progress: form.dataset.sayProgress || "已上传 %(percent)s%（%(done)s / %(total)s MB）",
    retry: form.dataset.sayRetry || "网络中断，正在续传……",
    failed: form.dataset.sayFailed || "上传失败，请检查网络后再次提交（已上传的部分会续传）。",
    checking: form.dataset.sayChecking || "上传完成，正在检查视频……",
  };

  function say(message) { status.textContent = message; }

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (all, name) { return name in values ? values[name] : all; });
  }

  var banner = document.getElementById("form-errors");

  function clearErrors() {
    Array.prototype.forEach.call(form.querySelectorAll(".errorlist[data-precheck]"), function (el) { el.remove(); });
    Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid][data-precheck]"), function (el) {
      el.removeAttribute("aria-invalid"); el.removeAttribute("data-precheck");
    });
  }

  function showErrors(errors) {
    clearErrors();
    var first = null;
    Object.keys(errors).forEach(function (name) {
      var list = document.createElement("ul");
      list.className = "errorlist"; list.setAttribute("data-precheck", ""); list.setAttribute("role", "alert");
      errors[name].forEach(function (message) {
        var item = document.createElement("li"); item.textContent = message; list.appendChild(item);
      });
      var field = form.querySelector("#" + name);
      if (field) {
        field.setAttribute("aria-invalid", "true"); field.setAttribute("data-precheck", "");
        field.parentNode.appendChild(list);
        first = first || field;
      } else {
        form.insertBefore(list, form.firstElementChild);
      }
    });
    if (banner) { banner.textContent = form.dataset.sayCheckFailed || "请按提示修改后再上传，所选文件仍然保留。"; banner.hidden = false; }
    if (first) first.focus();
  }

  function precheck() {
    var data = new FormData(form);
    data.delete("video");
    data.append("pending", "video");
    return fetch(form.dataset.checkUrl, {
      method: "POST", body: data, credentials: "same-origin", headers: { "X-CSRFToken": csrf },
    }).then(function (r) { return r.ok ? r.json() : { ok: true }; }, function () { return { ok: true }; });
  }

  input.addEventListener("change", function () {
    // A new file replaces one kept from an earlier try.
    Array.prototype.forEach.call(form.querySelectorAll("input[name=kept]"), function (box) { box.checked = false; });
  });

  form.addEventListener("submit", function (event) {
    if (!input.files.length || hidden.value) return; // nothing to upload, or already uploaded
    event.preventDefault();
    precheck().then(function (answer) {
      if (!answer.ok) { showErrors(answer.errors || {}); return; }
      clearErrors();
      upload();
    });
  });

  function upload() {
    var file = input.files[0];
    var uppy = new window.Uppy.Uppy({ autoProceed: false, allowMultipleUploadBatches: false });
    uppy.use(window.Uppy.Tus, {
      endpoint: form.dataset.tusEndpoint,
      chunkSize: 8 * 1024 * 1024,
      retryDelays: [0, 1000, 3000, 5000, 10000, 20000, 30000],
      headers: { "X-CSRFToken": csrf },
      removeFingerprintOnSuccess: true,
      withCredentials: true,
    });
    uppy.addFile({ name: file.name, type: file.type || "video/mp4", data: file, source: "input" });
    progress.hidden = false;
    say(text.uploading);
    uppy.on("upload-progress", function (f, p) {
      if (p.bytesTotal) {
        progress.value = Math.round((p.bytesUploaded / p.bytesTotal) * 100);
        say(fill(text.progress, {
          percent: progress.value,
          done: Math.round(p.bytesUploaded / 1048576),
          total: Math.round(p.bytesTotal / 1048576),
        }));
      }
    });
    uppy.on("upload-retry", function () { say(text.retry); });
    uppy.upload().then(function (result) {
      if (!result.successful || !result.successful.length) {
        say(text.failed);
        return;
      }
      var url = result.successful[0].uploadURL || result.successful[0].tus.uploadUrl;
      hidden.value = url.split("/").pop();
      input.value = "";
      input.disabled = true; // the video is already on the server: post only the form fields
      if (submitter) {
        var action = document.createElement("input");
        action.type = "hidden"; action.name = "action"; action.value = submitter.value;
        form.appendChild(action);
      }
      say(text.checking);
      form.submit();
    });
  }
})();
