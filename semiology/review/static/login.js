"use strict";
document.getElementById("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const result = await Review.api("POST", "/api/login", {
    username: document.getElementById("username").value,
    password: document.getElementById("password").value,
  });
  if (result.ok) {
    Review.setCsrf(result.body.csrf);
    window.location.assign("/");
  } else {
    Review.message(Review.detail(result), "error");
  }
});
