// 签约前核查：输入时提示单位与社区名称；增加评审人员输入框。无外部依赖。
(function () {
  var timers = {};
  document.querySelectorAll("input[data-suggest]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("list"));
    input.addEventListener("input", function () {
      var q = input.value.trim();
      clearTimeout(timers[input.name]);
      if (q.length < 2) { return; }
      timers[input.name] = setTimeout(function () {
        fetch("/ui/suggest?what=" + input.dataset.suggest + "&q=" + encodeURIComponent(q), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (items) {
            list.innerHTML = "";
            items.forEach(function (it) {
              var o = document.createElement("option");
              o.value = it.value; o.label = it.label; o.textContent = it.label;
              list.appendChild(o);
            });
          });
      }, 200);
    });
  });
  var add = document.getElementById("add-member");
  if (add) {
    add.addEventListener("click", function () {
      var box = document.getElementById("panel-inputs");
      var input = document.createElement("input");
      input.name = "panel"; input.placeholder = "工号或姓名";
      box.appendChild(input); input.focus();
    });
  }
})();
